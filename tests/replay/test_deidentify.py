"""The de-identifier: an allow-list of kinds and fields, week-shifted times, k calls behind every
location, ISO 639-1 languages, per-call person numbers."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar

import pytest

from console.domain.events import (
    CallReceived,
    CallUpdated,
    Event,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    Position,
    Team,
    TeamStatus,
)
from console.replay.deidentify import (
    K_DEFAULT,
    SHIFT_WEEKS,
    Deidentifier,
    LocationPlan,
    _Point,
    age_band,
    deidentify_events,
    language_code,
    secret_week_offset,
)

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # a Thursday


def _call(cid: str, lat: float, lon: float, neighborhood: str = "", **kw: object) -> Call:
    return Call(
        cid,
        CallStatus.PENDING,
        2,
        CallType.MENTAL_HEALTH,
        T0,
        T0,
        lat=lat,
        lon=lon,
        neighborhood=neighborhood,
        **kw,  # type: ignore[arg-type]
    )


def _received(call: Call, sid: str = "") -> CallReceived:
    return CallReceived(
        source="dispatch",
        source_id=sid or f"call:{call.id}",
        occurred_at=call.received_at,
        recorded_at=call.received_at,
        call=call,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpScheduled(Event):
    """An event kind the de-identifier was not written for."""

    kind: ClassVar[str] = "followup_scheduled"
    call_id: str
    owner: str

    @property
    def entity_id(self) -> str:
        return self.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class RichCallReceived(CallReceived):
    """A known kind's class grown by another field (a subclass is not the allowed class)."""

    caller_phone: str = ""


def test_an_unknown_event_kind_is_dropped_and_counted() -> None:
    d = Deidentifier(offset=timedelta(weeks=60))
    calls = [_received(_call(f"C{i}", 41.76, -72.68)) for i in range(5)]
    odd = FollowUpScheduled(
        source="console", source_id="f1", occurred_at=T0, recorded_at=T0, call_id="C1", owner="Dr X"
    )
    rich = RichCallReceived(
        source="dispatch",
        source_id="r1",
        occurred_at=T0,
        recorded_at=T0,
        call=_call("C9", 41.76, -72.68),
        caller_phone="860-555-0142",
    )
    out = deidentify_events([*calls, odd, rich], d)
    assert [type(e) for e in out] == [CallReceived] * 5
    assert d.dropped == Counter({"followup_scheduled": 1, "call_received": 1})


def test_fields_off_the_list_take_their_defaults() -> None:
    d = Deidentifier(offset=timedelta(weeks=60))
    c = _call(
        "INC-1",
        41.76,
        -72.68,
        address="12 Main St",
        summary="Jo Smith, 860-555-0101",
        destination="her sister's flat",
        source_type="MNTL Jo",
        status_code="XX",
        codes=(("locationType", "Jo Smith's"),),
        language="Spanish; ask for Jo at 860-555-0101",
        disposition="sent home to Jo",
    )
    d.prepare([_received(c)])
    out = d.call(c)
    assert out.id == "CALL-00001"
    assert (out.address, out.summary, out.destination) == ("", "", None)
    assert (out.source_type, out.status_code, out.codes) == ("", "", ())
    assert out.language == "other" and out.disposition == "other"
    t = Team(
        "CRT-1",
        TeamStatus.ASSIGNED,
        T0,
        "CRT",
        T0,
        "INC-1",
        Capabilities(languages=("en", "Spanish", "Klingon")),
        name="Jo Smith",
        destination="12 Main St",
        status_code="Z",
        codes=(("unit", "Jo"),),
    )
    tt = d.team(t)
    assert (tt.name, tt.destination, tt.status_code, tt.codes) == ("", None, "", ())
    assert tt.call == "CALL-00001" and tt.capabilities.languages == ("en", "es", "other")


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("en", "en"),
        ("ES", "es"),
        ("es-US", "es"),
        ("pt_BR", "pt"),
        ("Spanish", "es"),
        ("haitian  creole", "ht"),
        ("", None),
        (None, None),
        ("xx", "other"),
        ("ASL", "other"),
        ("Spanish - call Maria 860-555-0101", "other"),
        ("maria@example.org", "other"),
    ],
)
def test_language_becomes_an_iso_639_1_code(given: str | None, code: str | None) -> None:
    assert language_code(given) == code


def test_times_move_by_whole_weeks_keeping_weekday_and_time_of_day() -> None:
    d = Deidentifier(offset=timedelta(weeks=-130))
    local = T0.astimezone(timezone(timedelta(hours=-5)))
    moved = d.time(local)
    assert moved.tzinfo is UTC  # a local offset would tell the season
    assert moved.weekday() == T0.weekday() and moved.time() == T0.time()
    assert moved.date() != T0.date()
    with pytest.raises(ValueError):
        Deidentifier(offset=timedelta(days=3))


def test_the_secret_offset_is_whole_weeks_in_both_directions() -> None:
    rng = random.Random(5)
    lo, hi = SHIFT_WEEKS
    seen = [secret_week_offset(rng) for _ in range(200)]
    assert all(o % timedelta(weeks=1) == timedelta(0) for o in seen)
    assert all(lo <= abs(o.days) // 7 <= hi for o in seen)
    assert {o > timedelta(0) for o in seen} == {True, False}
    drawn = {secret_week_offset() for _ in range(20)}  # the secure source: not one fixed value
    assert len(drawn) > 1


def _points(spec: list[tuple[float, float, str]]) -> dict[str, _Point]:
    return {f"C{i}": _Point(lat, lon, n) for i, (lat, lon, n) in enumerate(spec)}


def test_every_point_stands_for_k_calls() -> None:
    rng = random.Random(3)
    spec = [
        # a dense downtown: fine cells fill up
        *[
            (41.764 + rng.uniform(0, 0.002), -72.675 + rng.uniform(0, 0.003), "Downtown")
            for _ in range(30)
        ],
        # scattered calls across the city, some far out
        *[
            (41.72 + rng.uniform(0, 0.08), -72.72 + rng.uniform(0, 0.08), rng.choice("ABC"))
            for _ in range(23)
        ],
    ]
    points = _points(spec)
    plan = LocationPlan(points, k=5)
    shown = Counter(plan.call_point(c) for c in points)
    assert None not in shown
    assert min(shown.values()) >= 5, shown
    # a neighborhood name is shown only where k calls share it and the point
    named = Counter(
        (plan.call_point(c), plan.neighborhood(c)) for c in points if plan.neighborhood(c)
    )
    assert named and min(named.values()) >= 5
    assert plan.neighborhood("C1") == "Downtown"


@pytest.mark.parametrize("k", [1, 2, 5, 9])
def test_k_is_configurable(k: int) -> None:
    rng = random.Random(k)
    points = _points(
        [(41.72 + rng.uniform(0, 0.06), -72.72 + rng.uniform(0, 0.06), "") for _ in range(40)]
    )
    plan = LocationPlan(points, k=k)
    shown = Counter(plan.call_point(c) for c in points)
    assert min(shown.values()) >= k
    if k == 1:  # nothing to hide among: the finest grid serves
        assert plan.level == 0


def test_a_lone_call_is_snapped_to_the_city_centre_or_its_neighborhood() -> None:
    downtown = [(41.7640 + i * 1e-5, -72.6750, "") for i in range(6)]
    # five far-apart calls of one neighborhood, each alone in its coarsest cell
    north = [(41.60 + i * 0.05, -72.90 + i * 0.05, "North End") for i in range(5)]
    loner = [(42.20, -72.10, "Elsewhere")]
    points = _points([*downtown, *north, *loner])
    plan = LocationPlan(points, k=5, city_centre=(41.7658, -72.6734))
    shown = Counter(plan.call_point(c) for c in points)
    assert min(shown.values()) >= 5
    north_points = {plan.call_point(f"C{i}") for i in range(6, 11)}
    assert len(north_points) == 1  # the neighborhood's centre
    assert plan.neighborhood("C6") == "North End"
    # the loner has too few companions anywhere: it joins the smallest group at the city centre
    assert plan.call_point("C11") == (41.7658, -72.6734)
    assert plan.neighborhood("C11") == ""


def test_fewer_than_k_calls_keep_no_location() -> None:
    points = _points([(41.76, -72.68, "Downtown")] * 4)
    plan = LocationPlan(points, k=K_DEFAULT)
    assert all(plan.call_point(c) is None and plan.neighborhood(c) == "" for c in points)
    assert plan.free_point(41.76, -72.68) is None


def test_a_team_is_shown_at_its_calls_point_or_not_at_all() -> None:
    d = Deidentifier(offset=timedelta(weeks=100))
    calls = [_call(f"C{i}", 41.7640 + i * 1e-5, -72.6750) for i in range(6)]
    calls += [_call(f"W{i}", 41.70 + i * 1e-5, -72.80) for i in range(5)]
    calls.append(_call("LONE", 41.90, -72.50))
    team = Team("CRT-1", TeamStatus.AVAILABLE, T0, "CRT", T0)

    def pos(lat: float, lon: float, n: int) -> TeamPositionReported:
        at = T0 + timedelta(minutes=n)
        return TeamPositionReported(
            source="dispatch",
            source_id=f"p{n}",
            occurred_at=at,
            recorded_at=at,
            team_id="CRT-1",
            position=Position(lat, lon, at),
        )

    def status(call: str | None, n: int) -> TeamStatusChanged:
        at = T0 + timedelta(minutes=n)
        st = TeamStatus.ON_SCENE if call else TeamStatus.AVAILABLE
        return TeamStatusChanged(
            source="dispatch",
            source_id=f"s{n}",
            occurred_at=at,
            recorded_at=at,
            team=replace(team, status=st, call=call, updated_at=at),
        )

    events: list[Event] = [
        *(_received(c) for c in calls),
        status(None, 0),
        pos(41.7641, -72.6751, 1),  # between calls, in the busy cell: its centre
        status("LONE", 2),
        pos(41.9001, -72.5001, 3),  # on scene of a call: the call's shown point
        status(None, 4),
        pos(41.9001, -72.5001, 5),  # free, where no k calls are: not shown
    ]
    out = deidentify_events(events, d)
    shown = [e for e in out if isinstance(e, TeamPositionReported)]
    assert len(shown) == 2
    busy = d.plan.call_point("C0")
    assert (shown[0].position.lat, shown[0].position.lon) == busy
    assert (shown[1].position.lat, shown[1].position.lon) == d.plan.call_point("LONE")
    at = Counter(d.plan.call_point(c.id) for c in calls)
    assert at[busy] == 6 and at[d.plan.call_point("LONE")] == 6  # the west five and the loner


def test_a_person_gets_a_fresh_number_in_every_call() -> None:
    d = Deidentifier(offset=timedelta(weeks=52))
    row = {
        "role": "Caller",
        "given_name": "Jolene",
        "surname": "Marchetti",
        "phone": "860-555-0142",
        "dob": "1984-03-07",
        "age": "41",
        "callback": "860-555-0142",
    }
    runs = [d.persons([row, {**row, "role": "a cousin named Jo"}]) for _ in range(30)]
    for rows in runs:
        assert set(rows[0]) == {"role", "name", "age_band"}
        assert rows[0]["role"] == "Caller" and rows[0]["age_band"] == "40-49"
        assert rows[1]["role"] == "InvolvedPerson"
        assert rows[0]["name"] != rows[1]["name"]
    names = [rows[0]["name"] for rows in runs]
    assert len(set(names)) > 20  # drawn at random, not "Person 1" every time


def test_ages_become_bands() -> None:
    assert [age_band(a) for a in ("7", "41", "89", "90", "103", "x", "-1")] == [
        "0-9",
        "40-49",
        "80-89",
        "90+",
        "90+",
        "",
        "",
    ]


def test_call_numbers_follow_appearance_and_calls_keep_one_point() -> None:
    d = Deidentifier(offset=timedelta(weeks=52))
    calls = [_call(f"INC-{i}", 41.7640 + i * 1e-5, -72.6750) for i in range(5)]
    moved = replace(calls[0], lat=41.70, lon=-72.70, status=CallStatus.ASSIGNED, version=2)
    later = CallUpdated(
        source="dispatch",
        source_id="u",
        occurred_at=T0 + timedelta(minutes=1),
        recorded_at=T0 + timedelta(minutes=1),
        call=moved,
    )
    out = deidentify_events([*(_received(c) for c in calls), later], d)
    assert [e.call.id for e in out if isinstance(e, CallReceived | CallUpdated)] == [
        "CALL-00001",
        "CALL-00002",
        "CALL-00003",
        "CALL-00004",
        "CALL-00005",
        "CALL-00001",
    ]
    first, last = out[0], out[-1]
    assert isinstance(first, CallReceived) and isinstance(last, CallUpdated)
    assert (first.call.lat, first.call.lon) == (last.call.lat, last.call.lon)


def test_k_comes_from_the_configuration() -> None:
    from console.config import ConfigError, parse_config

    assert parse_config("").deidentify_k == K_DEFAULT
    assert parse_config("[security]\ndeidentify_k = 11\n").deidentify_k == 11
    for bad in ("0", "2.5", '"five"'):
        with pytest.raises(ConfigError, match=r"security\.deidentify_k"):
            parse_config(f"[security]\ndeidentify_k = {bad}\n")


def test_a_backup_request_names_its_team_and_call_in_words_of_its_own() -> None:
    from console.domain.events import Alert, AlertKind, AlertRaised, Severity

    d = Deidentifier(offset=timedelta(weeks=100))
    call = _call("HCR-000777", 41.7640, -72.6750)
    team = Team("CRT-3", TeamStatus.ON_SCENE, T0, "CRT", T0, call="HCR-000777")
    said = "CRT-3 requests backup at HCR-000777: Jo Smith has a knife, 12 Elm St"
    events: list[Event] = [
        _received(call),
        TeamStatusChanged(source="dispatch", source_id="s1", occurred_at=T0, recorded_at=T0,
                          team=team),
        AlertRaised(source="dispatch", source_id="a1", occurred_at=T0, recorded_at=T0,
                    alert=Alert("backup_request:CRT-3", AlertKind.BACKUP_REQUEST,
                                Severity.CRITICAL, "CRT-3", said, T0)),
    ]  # fmt: skip
    out = deidentify_events(events, d)
    (raised,) = [e for e in out if isinstance(e, AlertRaised)]
    pseudonym = d.call_id("HCR-000777")
    assert raised.alert.message == f"CRT-3 requests backup at {pseudonym}"
    assert "Smith" not in repr(out) and "HCR-000777" not in repr(out)
