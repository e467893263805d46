"""The EIDO retrieval service (NENA's Incident Data API): fetch one incident's current EIDO.

After a reconnect, dispatch re-sends the incidents it still holds open; a call still open
here that it did not re-send is asked for by id (``GET {base}/incidents/{incidentID}``) when
the site configures the service. Its answer enters the log like a notification's document:
read by the same tolerant reader, quarantined if it cannot be used. A call dispatch no longer
knows (404) or that cannot be fetched stays marked "not confirmed since HH:MM" on screen.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from .transport import LinkSecurity, TransportError, client_ssl_context

TIMEOUT_S = 10.0
MAX_BYTES = 4 * 1024 * 1024
"""An incident's EIDO is a few kB; a larger answer is refused, not read."""


class RetrievalError(Exception):
    """The service could not be asked or did not answer usably (one line, says why)."""


@dataclass(frozen=True, slots=True)
class Retrieved:
    call_id: str
    document: dict[str, Any] | None
    """The incident's EIDO; None when dispatch does not know the incident (404)."""
    raw: str = ""
    """The answer as received (kept for the quarantine when it cannot be read)."""
    problem: str = ""
    """Why the answer is not an EIDO document (it is then quarantined with ``raw``)."""


def retrieval_ssl_context(url: str, sec: LinkSecurity) -> ssl.SSLContext | None:
    """The TLS context for the service (None for ``http://``), under the dispatch link's rules:
    plain HTTP only to this machine unless unencrypted links are allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TransportError(f"retrieval URL {url!r} must start with http:// or https://")
    as_ws = ("ws" if parts.scheme == "http" else "wss") + url[len(parts.scheme) :]
    return client_ssl_context(as_ws, sec)


class IncidentRetrieval:
    """Blocking client of one retrieval service (run it off the event loop)."""

    def __init__(
        self, base_url: str, security: LinkSecurity | None = None, timeout_s: float = TIMEOUT_S
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ssl = retrieval_ssl_context(base_url, security or LinkSecurity())
        self.timeout_s = timeout_s

    def url_for(self, call_id: str) -> str:
        return f"{self.base_url}/incidents/{quote(call_id, safe='')}"

    def fetch(self, call_id: str) -> Retrieved:
        req = urllib.request.Request(
            self.url_for(call_id), headers={"Accept": "application/json"}, method="GET"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s, context=self.ssl) as resp:
                body = resp.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return Retrieved(call_id, None)
            raise RetrievalError(f"{call_id}: the retrieval service answered {exc.code}") from None
        except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
            why = getattr(exc, "reason", None) or exc
            raise RetrievalError(f"{call_id}: cannot reach the retrieval service ({why})") from None
        if len(body) > MAX_BYTES:
            raise RetrievalError(f"{call_id}: the answer is larger than {MAX_BYTES} bytes")
        raw = body.decode("utf-8", errors="replace")
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            return Retrieved(call_id, None, raw, f"retrieval: {call_id}: not JSON ({exc})")
        # The EIDO itself; some services wrap it in a one-element list.
        if isinstance(doc, list) and len(doc) == 1:
            doc = doc[0]
        if not isinstance(doc, dict):
            return Retrieved(call_id, None, raw, f"retrieval: {call_id}: not one EIDO document")
        return Retrieved(call_id, doc, raw)
