from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from console.domain.destinations import (
    CapacityReport,
    Criteria,
    Destination,
    DestinationError,
    DestinationKind,
    DestinationSet,
    Intake,
    OpenState,
    PersonNeeds,
    Schedule,
    capacity_view,
    parse_destinations,
    propose,
    wait_alerts,
)
from console.domain.events import AlertKind
from console.domain.model import Call, CallStatus, CallType, Position, Team, TeamStatus

NY = ZoneInfo("America/New_York")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A local Hartford time (2026-12-07 is a Monday)."""
    return datetime(y, mo, d, h, mi, tzinfo=NY)


DAY = ((time(9, 0), time(17, 0)),)
NIGHT = ((time(20, 0), time(8, 0)),)


def test_open_closing_soon_closed_on_a_day_schedule() -> None:
    s = Schedule({i: DAY for i in range(5)}, tz=NY)
    assert s.status(at(2026, 12, 7, 10)).state is OpenState.OPEN
    assert s.status(at(2026, 12, 7, 16, 31)).state is OpenState.CLOSING_SOON
    assert s.status(at(2026, 12, 7, 16, 29)).state is OpenState.OPEN
    st = s.status(at(2026, 12, 7, 17, 0))
    assert st.state is OpenState.CLOSED
    assert st.opens_at == at(2026, 12, 8, 9)
    # Friday evening: next opening is Monday morning.
    assert s.status(at(2026, 12, 11, 18)).opens_at == at(2026, 12, 14, 9)
    assert s.status(at(2026, 12, 12, 12)).state is OpenState.CLOSED


def test_overnight_hours_cross_midnight() -> None:
    # Open Friday 20:00 to Saturday 08:00 only.
    s = Schedule({4: NIGHT}, tz=NY)
    assert s.status(at(2026, 12, 11, 19, 59)).state is OpenState.CLOSED
    assert s.status(at(2026, 12, 11, 23)).state is OpenState.OPEN
    sat = s.status(at(2026, 12, 12, 3))
    assert sat.state is OpenState.OPEN and sat.closes_at == at(2026, 12, 12, 8)
    assert s.status(at(2026, 12, 12, 7, 45)).state is OpenState.CLOSING_SOON
    assert s.status(at(2026, 12, 12, 8)).state is OpenState.CLOSED


def test_back_to_back_spans_are_one_opening_and_24_7_never_closes() -> None:
    s = Schedule({0: ((time(20, 0), time(0, 0)),), 1: ((time(0, 0), time(8, 0)),)}, tz=NY)
    st = s.status(at(2026, 12, 7, 23, 50))
    assert st.state is OpenState.OPEN and st.closes_at == at(2026, 12, 8, 8)
    always = Schedule({i: ((time(0, 0), time(0, 0)),) for i in range(7)}, tz=NY)
    st = always.status(at(2026, 12, 7, 23, 50))
    assert st.state is OpenState.OPEN and st.closes_at is None
    assert st.describe(at(2026, 12, 7, 23, 50)) == "open 24 h"


def test_holiday_closes_the_day_but_not_the_night_begun_before() -> None:
    xmas = date(2026, 12, 25)  # a Friday
    s = Schedule(
        {i: NIGHT for i in range(7)},
        exceptions={xmas: ()},
        holiday_names={xmas: "Christmas Day"},
        tz=NY,
    )
    # Thursday night's hours run into Christmas morning.
    assert s.status(at(2026, 12, 25, 7, 45)).state is OpenState.CLOSING_SOON
    st = s.status(at(2026, 12, 25, 21))
    assert st.state is OpenState.CLOSED and st.holiday == "Christmas Day"
    assert st.opens_at == at(2026, 12, 26, 20)
    assert "Christmas Day" in st.describe(at(2026, 12, 25, 21))


def test_schedule_follows_the_zone_not_utc() -> None:
    s = Schedule({0: DAY}, tz=NY)
    # 15:00 UTC on Monday is 10:00 in Hartford.
    assert s.status(datetime(2026, 12, 7, 15, tzinfo=UTC)).open_now
    assert not s.status(datetime(2026, 12, 7, 23, tzinfo=UTC)).open_now


# -- proposals ---------------------------------------------------------------------------------

NOW = at(2026, 12, 7, 14)
ALWAYS = Schedule({i: ((time(0, 0), time(0, 0)),) for i in range(7)}, tz=NY)


def dest(ident: str, kind: DestinationKind, lat: float, **kw: object) -> Destination:
    return Destination(ident, ident.title(), kind, lat, -72.68, schedule=ALWAYS, **kw)  # type: ignore[arg-type]


def call(**kw: object) -> Call:
    base: dict[str, object] = dict(
        id="HCR-1",
        status=CallStatus.ON_SCENE,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=NOW,
        updated_at=NOW,
        lat=41.76,
        lon=-72.68,
        transport_needed=True,
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def fresh(ident: str, available: int, accepting: bool = True, age_s: float = 600) -> CapacityReport:
    return CapacityReport(ident, NOW - timedelta(seconds=age_s), available, accepting)


def test_proposal_ranks_by_travel_time_with_reasons() -> None:
    near = dest("near", DestinationKind.CRISIS_STABILIZATION, 41.765, capacity=10)
    far = dest("far", DestinationKind.SHELTER, 41.80, capacity=10)
    ed = dest("ed", DestinationKind.EMERGENCY_DEPARTMENT, 41.78)
    ds = DestinationSet((far, near, ed))
    p = propose(call(), ds, {"near": fresh("near", 3), "far": fresh("far", 5)}, NOW)
    assert [c.destination_id for c in p.ranked] == ["near", "ed", "far"]
    assert p.ranked[0].reasons[0].endswith("min away")
    assert "3 free (10 min ago)" in p.ranked[0].reasons
    assert p.ineligible == ()


def test_proposal_travel_from_the_team_position() -> None:
    a = dest("a", DestinationKind.SHELTER, 41.70)
    b = dest("b", DestinationKind.SHELTER, 41.80)
    ds = DestinationSet((a, b))
    p = propose(call(), ds, {}, NOW, position=Position(41.70, -72.68, NOW))
    assert p.best is not None and p.best.destination_id == "a"


def test_full_not_accepting_stale_and_missing_figures_are_ineligible() -> None:
    ds = DestinationSet(
        (
            dest("full", DestinationKind.SHELTER, 41.77, capacity=20),
            dest("closed-door", DestinationKind.DETOX, 41.77, capacity=8),
            dest("old", DestinationKind.SOBERING_CENTER, 41.77, capacity=8),
            dest("unknown", DestinationKind.SHELTER, 41.77, capacity=8),
            dest("ok", DestinationKind.SHELTER, 41.77, capacity=8),
        ),
        capacity_stale_s=4 * 3600,
    )
    cap = {
        "full": fresh("full", 0),
        "closed-door": fresh("closed-door", 3, accepting=False),
        "old": fresh("old", 5, age_s=5 * 3600),
        "ok": fresh("ok", 1),
    }
    p = propose(call(), ds, cap, NOW)
    why = dict(p.ineligible)
    assert why["full"] == ("full",)
    assert why["closed-door"] == ("not accepting",)
    assert why["old"] == ("capacity figure is 5.0 h old (stale)",)
    assert why["unknown"] == ("no capacity figure",)
    assert [c.destination_id for c in p.ranked] == ["ok"]


def test_stale_figure_is_never_shown_as_current() -> None:
    view = capacity_view(fresh("x", 5, age_s=5 * 3600), NOW, 4 * 3600)
    assert view.stale and view.current is None
    assert view.describe(10).startswith("stale (5.0 h old")
    view = capacity_view(fresh("x", 5, age_s=60), NOW, 4 * 3600)
    assert view.current is not None and view.describe(10) == "5 of 10 free, 60 s ago"


def test_criteria_age_intoxication_clearance_language() -> None:
    adults = dest("adults", DestinationKind.SHELTER, 41.77, criteria=Criteria(min_age=18))
    dry = dest("dry", DestinationKind.SHELTER, 41.77, criteria=Criteria(accepts_intoxicated=False))
    csu = dest(
        "csu",
        DestinationKind.CRISIS_STABILIZATION,
        41.77,
        criteria=Criteria(needs_medical_clearance=True, languages=("en", "es")),
    )
    ds = DestinationSet((adults, dry, csu))
    p = propose(call(), ds, {}, NOW, needs=PersonNeeds(age=16, intoxicated=True, language="pl"))
    why = dict(p.ineligible)
    assert why["adults"] == ("takes ages 18+ (person is 16)",)
    assert why["dry"] == ("does not take intoxicated persons",)
    assert why["csu"] == ("needs medical clearance first", "no intake staff speaking pl")
    assert p.ranked == ()
    # What the call says by default: a juvenile, substance use (intoxicated), Spanish.
    c = call(juvenile=True, type=CallType.SUBSTANCE_USE, language="es")
    p = propose(c, ds, {}, NOW)
    why = dict(p.ineligible)
    assert why["adults"] == ("adults only (18+); the person is a minor",)
    assert why["dry"] == ("does not take intoxicated persons",)
    assert [x.destination_id for x in p.ranked] == ["csu"]


def test_closed_and_closing_before_arrival_are_ineligible_call_first_is_a_reason() -> None:
    day = Schedule({0: ((time(9, 0), time(14, 10)),)}, tz=NY)
    night = Schedule({0: NIGHT}, tz=NY)
    soon = Destination("soon", "Soon", DestinationKind.WALK_IN_CLINIC, 41.90, -72.68, schedule=day)
    shut = Destination("shut", "Shut", DestinationKind.DETOX, 41.77, -72.68, schedule=night)
    phone = dest(
        "phone",
        DestinationKind.DETOX,
        41.77,
        phone="860-555-0100",
        criteria=Criteria(intake=Intake.CALL_FIRST),
    )
    p = propose(call(), DestinationSet((soon, shut, phone)), {}, NOW)
    why = dict(p.ineligible)
    assert why["soon"] == ("closes at 14:10, before arrival",)
    assert why["shut"] == ("closed, opens 20:00",)
    assert "call first: 860-555-0100" in p.ranked[0].reasons


def test_wait_alert_names_the_destination() -> None:
    d = dest("detox-a", DestinationKind.DETOX, 41.77)
    ds = DestinationSet((d,), wait_alert_s=45 * 60)
    t = Team(
        "CRT-3",
        TeamStatus.AT_DESTINATION,
        NOW,
        status_since=NOW - timedelta(minutes=46),
        destination="Detox-A",
    )
    [a] = wait_alerts([t], ds, NOW)
    assert a.kind is AlertKind.DESTINATION_WAIT
    assert a.message == "CRT-3 waiting 46 min at detox intake (Detox-A)"
    assert wait_alerts([t], ds, NOW - timedelta(minutes=2)) == []
    other = Team("CRT-4", TeamStatus.ON_SCENE, NOW, status_since=NOW - timedelta(hours=2))
    assert wait_alerts([other], ds, NOW) == []


# -- the file ----------------------------------------------------------------------------------

GOOD = """
version = 1
timezone = "America/New_York"
[holidays]
"2026-12-25" = "Christmas Day"
[[destination]]
id = "csu"
name = "Crisis Stabilization"
kind = "crisis_stabilization"
lat = 41.76
lon = -72.68
phone = "860-555-0101"
capacity = 12
hours = { daily = ["20:00-08:00"], sat = "00:00-24:00" }
holiday_hours = []
criteria = { min_age = 18, accepts_intoxicated = false, languages = ["en", "es"], intake = "call_first" }
"""


def test_file_reads_with_holidays_and_overnight() -> None:
    ds = parse_destinations(tomllib.loads(GOOD))
    [d] = ds.destinations
    assert d.capacity == 12 and d.criteria.intake is Intake.CALL_FIRST
    assert d.status(at(2026, 12, 7, 23)).open_now
    assert not d.status(at(2026, 12, 25, 21)).open_now
    assert d.status(at(2026, 12, 12, 12)).open_now  # Saturday all day
    assert ds.get("crisis stabilization") is d


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "crisis_stabilization"', 'kind = "spa"'),
            "destination 'csu'.kind: 'spa' is not one of",
        ),
        (
            ("lat = 41.76", "lat = 141.76"),
            "destination 'csu'.lat: expected a number from -90 to 90",
        ),
        (('"20:00-08:00"', '"20:00-8"'), "hours.daily: '8' is not a time HH:MM"),
        (("min_age = 18", "min_age = 18, beds = 3"), "criteria: unknown key 'beds'"),
        (('"2026-12-25"', '"2026-13-25"'), "holidays: '2026-13-25' is not a date"),
        (('timezone = "America/New_York"', 'timezone = "Mars/Olympus"'), "unknown time zone"),
        (('id = "csu"', 'id = ""'), "destination 1: missing id"),
        (("capacity = 12", "capacity = -1"), "capacity: expected a whole number from 1"),
    ],
)
def test_bad_file_one_line_naming_the_problem(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(DestinationError) as e:
        parse_destinations(tomllib.loads(text))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_status_cache_gives_exactly_the_uncached_status() -> None:
    from console.domain.destinations import StatusCache

    doc = tomllib.loads(GOOD)
    doc["destination"].append(
        {
            "id": "clinic",
            "name": "Clinic",
            "kind": "walk_in_clinic",
            "lat": 41.7,
            "lon": -72.7,
            "hours": {"mon": "08:00-20:00", "fri": ["08:00-12:00", "13:00-17:00"]},
            "holiday_hours": [],
        }
    )
    ds = parse_destinations(doc)
    cache = StatusCache()
    t = at(2026, 12, 20, 0, 0)
    calls = 0
    while t < at(2026, 12, 30, 0, 0):
        for d in ds.destinations:
            assert cache.status(d, t) == d.status(t), (d.id, t)
            calls += 1
        t += timedelta(minutes=7)
    assert calls > 4000
