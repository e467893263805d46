"""`quarantine --reprocess`: a message refused earlier is read again with the current code table;
what reads enters the log exactly once and the kept item is marked, its raw text unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from console.domain.model import CallStatus, CallType
from console.store import Store

from .helpers import cli

PEER = Path(__file__).resolve().parents[1] / "fixtures" / "eido" / "peer"


def _vendor_doc() -> dict[str, object]:
    doc = json.loads((PEER / "09_priority_zero.json").read_text(encoding="utf-8"))
    doc["incidentComponent"]["incidentTypeCommonRegistryText"] = "PSYCH"
    doc["incidentComponent"]["incidentStatusCommonRegistryText"] = ["HOLD"]
    return doc


def test_reprocess_after_a_mapping_change_makes_the_call_exactly_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    store = Store.open(sqlite_url, create=True)
    raw = json.dumps(_vendor_doc(), sort_keys=True)
    qid = store.quarantine(raw, "unknown code 'PSYCH' in incidentTypeCommonRegistryText")
    junk = store.quarantine('{"event": {"trunc', "protocol: not JSON")
    store.close()

    config = tmp_path / "config.toml"
    config.write_text(
        '[codes.call_type]\n"PSYCH" = "mental_health"\n[codes.call_status]\n"HOLD" = "pending"\n',
        encoding="utf-8",
    )
    first = json.loads(
        cli("quarantine", "--reprocess", "--db", sqlite_url, "--config", str(config)).stdout
    )
    assert first["reprocessed"] == 1 and first["still_refused"] == 1
    outcomes = {i["id"]: i["outcome"] for i in first["items"]}
    assert outcomes[qid].startswith("1 fact(s) read, 1 new")
    assert outcomes[junk].startswith("still refused")

    store = Store.open(sqlite_url, create=False)
    call = store.load_state().calls["26-004711"]
    assert call.type is CallType.MENTAL_HEALTH and call.status is CallStatus.PENDING
    assert not call.priority_given
    events_after_first = store.event_count()
    items = {i.id: i for i in store.quarantined(10)}
    assert items[qid].reprocessed_at is not None and items[qid].raw == raw
    assert items[junk].reprocessed_at is None
    store.close()

    second = json.loads(
        cli("quarantine", "--reprocess", "--db", sqlite_url, "--config", str(config)).stdout
    )
    assert second["reprocessed"] == 0 and [i["id"] for i in second["items"]] == [junk]
    store = Store.open(sqlite_url, create=False)
    assert store.event_count() == events_after_first
    assert store.quarantine_count() == 2
    store.close()


def test_reprocess_without_the_mapping_keeps_the_code_rather_than_refusing(
    sqlite_url: str,
) -> None:
    store = Store.open(sqlite_url, create=True)
    store.quarantine(json.dumps(_vendor_doc()), "unknown code 'PSYCH'")
    outcomes = store.reprocess_quarantine(
        lambda raw: (_read(raw), {}),
    )
    assert len(outcomes) == 1 and "1 new" in outcomes[0][1]
    call = store.load_state().calls["26-004711"]
    assert call.type is CallType.UNRECOGNISED and call.source_type == "PSYCH"
    assert call.status is CallStatus.UNKNOWN and call.status_code == "HOLD"
    assert store.reprocess_quarantine(lambda raw: (_read(raw), {})) == []
    store.close()


def _read(raw: str) -> list[object]:
    from console.wire.eido import parse_eido

    return list(parse_eido(json.loads(raw)).events)
