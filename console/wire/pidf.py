"""PIDF-LO (RFC 4119 / 5491 / 5139) as a CAD writes it in ``locationByValue``.

Read as XML by namespace, whatever prefixes the writer chose (``gml:``, ``ns3:``, a default
namespace): a GML point, a PIDF-LO circle or sphere (its centre), a polygon (its centroid), and
the civic address (``civicAddress``) as one display line. The text is capped in size and a
document declaring a DTD or entities is refused, so nothing external is ever fetched or expanded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

GML = "http://www.opengis.net/gml"
PIDFLO = "http://www.opengis.net/pidflo/1.0"
CIVIC = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
MAX_CHARS = 64 * 1024
"""A location larger than this is not read (a CAD's PIDF-LO is a few kilobytes)."""

_CENTRED = frozenset({"Point", "Circle", "Sphere", "Ellipse", "Ellipsoid", "ArcBand"})


class PidfError(ValueError):
    """A ``locationByValue`` that cannot be read as a location."""


@dataclass(frozen=True, slots=True)
class Location:
    lat: float | None = None
    lon: float | None = None
    civic: str = ""
    """The civic address as one line ("42 W Cellular Street, Wilmington DE"), or ""."""


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _numbers(text: str | None, where: str) -> list[float]:
    try:
        return [float(x) for x in (text or "").split()]
    except ValueError:
        raise PidfError(f"{where}: {text!r} is not a list of numbers") from None


def _check(lat: float, lon: float) -> tuple[float, float]:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise PidfError(f"locationByValue: {lat} {lon} is not a position on Earth")
    return lat, lon


def _centroid(pts: list[tuple[float, float]]) -> tuple[float, float]:
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if not pts:
        raise PidfError("locationByValue: a polygon without positions")
    a = cx = cy = 0.0
    n = len(pts)
    for i in range(n):
        (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % n]
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-12:  # degenerate (a line or one point): the mean of the vertices
        return sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n
    return cx / (3 * a), cy / (3 * a)


def _polygon(el: ET.Element) -> tuple[float, float]:
    pts: list[tuple[float, float]] = []
    for sub in el.iter():
        ns, local = _split(sub.tag)
        if ns != GML:
            continue
        if local == "posList":
            vals = _numbers(sub.text, "posList")
            dim = int(sub.get("srsDimension") or 2)
            pts.extend((vals[i], vals[i + 1]) for i in range(0, len(vals) - dim + 1, dim))
        elif local == "pos":
            vals = _numbers(sub.text, "pos")
            if len(vals) >= 2:
                pts.append((vals[0], vals[1]))
        if pts and local == "posList":
            break  # the exterior ring comes first; holes do not move a display centroid much
    return _check(*_centroid(pts))


def _civic(el: ET.Element) -> str:
    f: dict[str, str] = {}
    for sub in el:
        _, local = _split(sub.tag)
        if sub.text and sub.text.strip():
            f.setdefault(local, sub.text.strip())
    street = " ".join(f[k] for k in ("HNO", "HNS", "PRD", "RD", "STS", "POD") if k in f)
    first = ", ".join(x for x in (f.get("NAM", ""), street, f.get("LOC", "")) if x)
    place = " ".join(x for x in (f.get("A3", ""), f.get("A1", ""), f.get("PC", "")) if x)
    if not first and f.get("LMK"):
        first = f["LMK"]
    return ", ".join(x for x in (first, place) if x)


_OWN_POINT = re.compile(
    r'<gml:Point xmlns:gml="http://www\.opengis\.net/gml" srsName="urn:ogc:def:crs:EPSG::4326">'
    r"<gml:pos>(-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)</gml:pos></gml:Point>"
)
"""Exactly the console's own writing (``eido.gml_point``): read without an XML parser."""


def parse_location(text: str) -> Location:
    """The position (and civic address) a PIDF-LO document or a bare GML shape gives."""
    own = _OWN_POINT.fullmatch(text)
    if own is not None:
        return Location(*_check(float(own.group(1)), float(own.group(2))))
    if len(text) > MAX_CHARS:
        raise PidfError(f"locationByValue: {len(text)} characters, more than {MAX_CHARS}")
    low = text.lower()
    if "<!doctype" in low or "<!entity" in low:
        raise PidfError("locationByValue: a DTD or entity declaration is not accepted")
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as exc:
        raise PidfError(f"locationByValue: not XML ({exc})") from None
    lat: float | None = None
    lon: float | None = None
    civic = ""
    for el in root.iter():
        ns, local = _split(el.tag)
        if lat is None and ns in (GML, PIDFLO) and local in _CENTRED:
            pos = next((p for p in el.iter() if _split(p.tag) == (GML, "pos")), None)
            if pos is None:
                raise PidfError(f"locationByValue: {local} without a gml:pos")
            vals = _numbers(pos.text, "pos")
            if len(vals) < 2:
                raise PidfError(f"locationByValue: {pos.text!r} is not latitude and longitude")
            lat, lon = _check(vals[0], vals[1])
        elif lat is None and ns == GML and local == "Polygon":
            lat, lon = _polygon(el)
        elif not civic and ns == CIVIC and local == "civicAddress":
            civic = _civic(el)
    if lat is None and not civic:
        raise PidfError("locationByValue: neither a geodetic shape nor a civic address")
    return Location(lat, lon, civic)
