"""Follow-ups opened by the site's rules: by the sync service when dispatch closes a call that
needs one, and with a supervisor's outcome that needs one; once each, whoever opens it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.domain.clock import ManualClock
from console.domain.commands import RecordOutcome
from console.domain.events import CallUpdated, Source, TeamStatusChanged
from console.domain.followup import FollowUpPolicy
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.domain.program import Outcome
from console.store import Store
from console.sync.client import Doc, Inbound
from console.sync.service import SyncService

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = FollowUpPolicy(due_by_cause={"referred": 24 * H}, automatic=True)


def _call(n: int, status: CallStatus = CallStatus.ON_SCENE, **kw: object) -> Call:
    base: dict[str, object] = dict(
        id=f"HCR-{n:06d}",
        status=status,
        priority=2,
        type=CallType.MENTAL_HEALTH,
        received_at=T0,
        updated_at=T0 + H,
        dispatched_at=T0,
        team="CRT-1",
        teams=("CRT-1",),
    )
    base.update(kw)
    return Call(**base)  # type: ignore[arg-type]


def _ev(c: Call) -> CallUpdated:
    return CallUpdated(
        source=Source.DISPATCH,
        source_id=f"call:{c.id}:v{c.version}:{c.updated_at.isoformat()}",
        occurred_at=c.updated_at,
        recorded_at=c.updated_at,
        call=c,
    )


def _inbound(*calls: Call) -> Inbound:
    batch = Inbound()
    for i, c in enumerate(calls):
        e = _ev(c)
        batch.transactions[f"t-{i}"] = {e.source_id}
        batch.events.append(e)
        batch.docs.append(Doc(f"t-{i}", {"call": c.id}, [e]))
    return batch


def _team(store: Store) -> None:
    t = Team("CRT-1", TeamStatus.AVAILABLE, T0, provider="CRT", status_since=T0)
    store.append(
        [
            TeamStatusChanged(
                source="dispatch", source_id="t1", occurred_at=T0, recorded_at=T0, team=t
            )
        ]
    )


def test_sync_service_opens_one_follow_up_when_dispatch_clears_a_referred_call(
    db_url: str,
) -> None:
    store = Store.open(db_url, create=True)
    try:
        _team(store)
        svc = SyncService(
            store, "ws://127.0.0.1:9", followups=POLICY, data_clock=ManualClock(T0 + 2 * H)
        )
        svc._commit_sync(_inbound(_call(1), _call(2)))
        assert store.load_state().followups == {}  # open calls: nothing yet
        done = replace(
            _call(1, CallStatus.CLEARED, disposition="referred"),
            cleared_at=T0 + 3 * H,
            updated_at=T0 + 3 * H,
            version=2,
        )
        fine = replace(
            _call(2, CallStatus.CLEARED, disposition="resolved_on_scene"),
            updated_at=T0 + 3 * H,
            version=2,
        )
        svc._commit_sync(_inbound(done, fine))
        st = store.load_state()
        assert list(st.followups) == ["FU-HCR-000001"]
        fu = st.followups["FU-HCR-000001"]
        assert (fu.owner, fu.cause, fu.due_at) == ("CRT", "referred", T0 + 27 * H)
        # Another writer (a second sync service, a console) seeing the same clearing: no second.
        again = store.open_followups([done.id], POLICY, T0 + 5 * H)
        assert again.appended == []
        n = store.event_count()
        SyncService(store, "ws://127.0.0.1:9", followups=POLICY)._commit_sync(
            _inbound(replace(done, version=3, updated_at=T0 + 4 * H))
        )
        assert store.event_count() == n + 1  # the call's update only
        store.rebuild_projections()
        assert store.load_state().followups == {"FU-HCR-000001": fu}
    finally:
        store.close()


def test_without_rules_or_when_not_automatic_none_is_opened(db_url: str) -> None:
    store = Store.open(db_url, create=True)
    try:
        svc = SyncService(store, "ws://127.0.0.1:9")
        svc._commit_sync(_inbound(_call(1, CallStatus.CLEARED, disposition="referred")))
        by_hand = SyncService(store, "ws://127.0.0.1:9", followups=FollowUpPolicy())
        by_hand._commit_sync(_inbound(_call(2, CallStatus.CLEARED, disposition="referred")))
        store.submit(
            RecordOutcome(call_id="HCR-000002", outcome=Outcome.REFERRED),
            operator="ann",
            followups=FollowUpPolicy(),
        )
        assert store.load_state().followups == {}
    finally:
        store.close()


def test_an_outcome_that_needs_one_opens_it_with_its_audit_row(db_url: str) -> None:
    store = Store.open(db_url, create=True, clock=ManualClock(T0 + 2 * H))
    try:
        _team(store)
        store.append([_ev(_call(1, CallStatus.CLEARED, disposition="resolved_on_scene"))])
        sub = store.submit(
            RecordOutcome(call_id="HCR-000001", outcome=Outcome.REFERRED),
            operator="ann",
            followups=POLICY,
        )
        assert ("followup", "FU-HCR-000001") in sub.changes.program
        fu = store.load_state().followups["FU-HCR-000001"]
        assert (fu.owner, fu.due_at, fu.opened_by) == ("CRT", T0 + 26 * H, "ann")
        assert [a.action for a in store.audit(5)][:2] == ["open_followup", "record_outcome"]
        # A second outcome needing one: the call has its follow-up, nothing more is opened.
        store.submit(
            RecordOutcome(call_id="HCR-000001", outcome=Outcome.REFUSED_SERVICES),
            operator="bob",
            followups=POLICY,
        )
        assert store.audit(5)[0].action == "record_outcome"
        assert len(store.load_state().followups) == 1
        # An outcome that needs none opens none.
        store.append([_ev(_call(2, CallStatus.CLEARED))])
        store.submit(
            RecordOutcome(call_id="HCR-000002", outcome=Outcome.RESOLVED_ON_SCENE),
            operator="ann",
            followups=POLICY,
        )
        assert "FU-HCR-000002" not in store.load_state().followups
    finally:
        store.close()
