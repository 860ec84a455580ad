"""The SLA calendar and clock (portal.sla.calendar, portal.sla.clock): exact examples across
weekends, Turkish holidays and half days, 24/7, daylight saving, pauses, and property-based
tests of the invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.sla import calendar as cal
from portal.sla.calendar import Calendar
from portal.sla.clock import History, Targets, state

IST = ZoneInfo("Europe/Istanbul")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = Calendar()  # Mon–Fri 09:00–18:00 Istanbul, Turkish holidays
ALWAYS = Calendar(always_open=True, public_holidays=False)


def ist(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# --- calendar arithmetic ------------------------------------------------------------------------

def test_friday_evening_plus_an_hour_is_monday_morning():
    assert cal.add(OFFICE, ist(2026, 11, 20, 17, 30), 60) == ist(2026, 11, 23, 9, 30)


def test_outside_hours_starts_at_the_next_opening():
    assert cal.add(OFFICE, ist(2026, 11, 21, 22, 0), 30) == ist(2026, 11, 23, 9, 30)
    assert cal.add(OFFICE, ist(2026, 11, 23, 7, 0), 60) == ist(2026, 11, 23, 10, 0)


def test_ending_exactly_at_closing_time_is_closing_time():
    assert cal.add(OFFICE, ist(2026, 11, 23, 17, 0), 60) == ist(2026, 11, 23, 18, 0)


def test_ramazan_bayrami_and_its_half_day_eve():
    # 2026: the eve (19 March, Thursday) closes at 13:00; 20–22 March are holidays.
    assert cal.add(OFFICE, ist(2026, 3, 19, 12, 30), 60) == ist(2026, 3, 23, 9, 30)
    assert cal.between(OFFICE, ist(2026, 3, 19, 9, 0), ist(2026, 3, 23, 9, 0)) == timedelta(hours=4)


def test_kurban_bayrami_closes_the_whole_week():
    # 2026: eve 26 May (Tue, half day), 27–30 May holidays, so next open is Monday 1 June.
    assert cal.add(OFFICE, ist(2026, 5, 26, 12, 0), 120) == ist(2026, 6, 1, 10, 0)


def test_republic_day_eve_is_a_half_day():
    assert cal.add(OFFICE, ist(2026, 10, 28, 12, 0), 120) == ist(2026, 10, 30, 10, 0)


def test_holiday_list_names_the_half_days():
    days = {d: (name, half) for d, name, half in cal.holiday_list(2026, "tr")}
    assert days[datetime(2026, 3, 19).date()][1] is True
    assert days[datetime(2026, 3, 20).date()][1] is False
    assert "Ramazan" in days[datetime(2026, 3, 20).date()][0]


def test_several_ranges_a_day():
    lunch = Calendar(week=(((9 * 60, 12 * 60), (13 * 60, 18 * 60)),) * 5 + ((), ()))
    assert cal.add(lunch, ist(2026, 11, 23, 11, 30), 60) == ist(2026, 11, 23, 13, 30)


def test_company_closures_are_skipped():
    closed = Calendar(closures=((ist(2026, 11, 23, 0, 0).astimezone(UTC), ist(2026, 11, 24, 0, 0).astimezone(UTC)),))
    assert cal.add(closed, ist(2026, 11, 20, 17, 30), 60) == ist(2026, 11, 24, 9, 30)


def test_twenty_four_seven():
    assert cal.add(ALWAYS, ist(2026, 11, 20, 17, 30), 24 * 60) == ist(2026, 11, 21, 17, 30)
    with_holidays = Calendar(always_open=True)
    assert cal.add(with_holidays, ist(2026, 10, 28, 12, 0), 120) == ist(2026, 10, 30, 1, 0)


def test_daylight_saving_in_berlin():
    always = Calendar(always_open=True, public_holidays=False, tz="Europe/Berlin")
    # 29 March 2026 has 23 hours: 24 business hours later is 01:00 later on the wall clock.
    assert cal.add(always, berlin(2026, 3, 28, 12, 0), 24 * 60) == berlin(2026, 3, 29, 13, 0)
    assert cal.between(always, berlin(2026, 10, 24, 12, 0), berlin(2026, 10, 25, 12, 0)) == timedelta(hours=25)
    office = Calendar(tz="Europe/Berlin", public_holidays=False)
    assert cal.add(office, berlin(2026, 3, 27, 17, 30), 60) == berlin(2026, 3, 30, 9, 30)
    assert cal.add(office, berlin(2026, 3, 27, 17, 30), 60) == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # CEST


def test_never_open_calendar_gives_no_due_time():
    never = Calendar(week=((),) * 7)
    assert cal.add(never, ist(2026, 1, 5, 9, 0), 10) is None


def test_parse_ranges():
    assert cal.parse_ranges("09:00-12:30, 13:30-18:00") == ((540, 750), (810, 1080))
    assert cal.parse_ranges("") == ()
    assert cal.parse_ranges("00:00-24:00") == ((0, 1440),)
    for bad in ("9-18", "18:00-09:00", "09:00-12:00, 11:00-13:00", "09:00-24:30", "09:61-10:00"):
        with pytest.raises(cal.BadHours):
            cal.parse_ranges(bad)
    assert cal.format_ranges(((540, 750), (810, 1080))) == "09:00-12:30, 13:30-18:00"


# --- the clock ----------------------------------------------------------------------------------

POLICY = Targets(first_response=60, next_response=120, resolution=8 * 60, warn_percent=80)
START = ist(2026, 11, 20, 17, 30)  # a Friday


def test_new_ticket_targets():
    s = state(History(START), POLICY, OFFICE, now=START)
    fr = s.targets["first_response"]
    assert fr.due_at == ist(2026, 11, 23, 9, 30)
    assert fr.warn_at == ist(2026, 11, 23, 9, 18)
    assert fr.remaining == timedelta(hours=1) and not fr.breached and not fr.paused
    assert s.targets["next_response"].due_at is None  # no cycle yet
    assert s.targets["resolution"].due_at == ist(2026, 11, 23, 16, 30)  # 30 min on Friday, 7 h 30 on Monday
    assert s.due_at == fr.due_at


def test_met_and_breached():
    history = History(START, statuses=((ist(2026, 11, 23, 9, 10), "open"),),
                      replies=((ist(2026, 11, 23, 9, 10), "staff"),))
    s = state(history, POLICY, OFFICE, now=ist(2026, 11, 23, 12, 0))
    assert s.targets["first_response"].met_at == ist(2026, 11, 23, 9, 10)
    assert not s.targets["first_response"].breached
    late = state(History(START), POLICY, OFFICE, now=ist(2026, 11, 23, 10, 5))
    assert late.targets["first_response"].breached
    assert late.targets["first_response"].remaining == timedelta(minutes=-35)
    assert late.breached


def test_pending_pauses_and_resume_moves_the_due_time():
    statuses = ((ist(2026, 11, 23, 9, 10), "pending"), (ist(2026, 11, 23, 11, 10), "open"))
    history = History(START, statuses=statuses, replies=((ist(2026, 11, 23, 9, 10), "staff"),))
    during = state(history, POLICY, OFFICE, now=ist(2026, 11, 23, 10, 0))
    assert during.paused_since == ist(2026, 11, 23, 9, 10)
    assert during.targets["resolution"].paused and during.due_at is None
    after = state(history, POLICY, OFFICE, now=ist(2026, 11, 23, 12, 0))
    # 2 hours in pending do not count: resolution moves from Monday 16:30 to Tuesday 09:30.
    assert after.targets["resolution"].due_at == ist(2026, 11, 24, 9, 30)
    assert after.paused_since is None


def test_on_hold_pauses_only_when_the_policy_says():
    history = History(START, statuses=((ist(2026, 11, 23, 9, 0), "on_hold"),))
    now = ist(2026, 11, 23, 11, 0)
    running = state(history, POLICY, OFFICE, now=now)
    assert running.targets["first_response"].breached
    held = state(history, Targets(60, 120, 480, pause_on_hold=True), OFFICE, now=now)
    assert not held.targets["first_response"].breached and held.targets["first_response"].paused


def test_breached_before_the_pause_stays_breached():
    history = History(START, statuses=((ist(2026, 11, 23, 11, 0), "pending"),))
    s = state(history, POLICY, OFFICE, now=ist(2026, 11, 24, 11, 0))
    assert s.targets["first_response"].breached and s.targets["first_response"].paused


def test_next_response_cycles():
    replies = ((ist(2026, 11, 23, 9, 10), "staff"), (ist(2026, 11, 23, 10, 0), "customer"),
               (ist(2026, 11, 23, 10, 30), "customer"), (ist(2026, 11, 23, 11, 0), "staff"),
               (ist(2026, 11, 23, 14, 0), "customer"))
    s = state(History(START, replies=replies[:4]), POLICY, OFFICE, now=ist(2026, 11, 23, 12, 0))
    nr = s.targets["next_response"]
    assert (nr.start, nr.met_at, nr.due_at) == (ist(2026, 11, 23, 10, 0), ist(2026, 11, 23, 11, 0),
                                                ist(2026, 11, 23, 12, 0))
    s2 = state(History(START, replies=replies), POLICY, OFFICE, now=ist(2026, 11, 23, 15, 0))
    nr2 = s2.targets["next_response"]
    assert nr2.start == ist(2026, 11, 23, 14, 0) and nr2.met_at is None
    assert nr2.due_at == ist(2026, 11, 23, 16, 0)


def test_solved_meets_resolution_and_reopening_runs_on():
    statuses = ((ist(2026, 11, 23, 10, 0), "solved"), (ist(2026, 11, 23, 12, 0), "open"))
    solved = state(History(START, statuses=statuses[:1]), POLICY, OFFICE, now=ist(2026, 11, 23, 11, 0))
    assert solved.targets["resolution"].met_at == ist(2026, 11, 23, 10, 0)
    assert solved.stopped and solved.due_at is None
    reopened = state(History(START, statuses=statuses), POLICY, OFFICE, now=ist(2026, 11, 23, 13, 0))
    assert reopened.targets["resolution"].met_at is None
    # The 2 hours it spent solved do not count: Monday 16:30 becomes Tuesday 09:30.
    assert reopened.targets["resolution"].due_at == ist(2026, 11, 24, 9, 30)


def test_a_faster_policy_recomputes_from_the_start():
    urgent = Targets(first_response=15, resolution=120)
    s = state(History(START), urgent, OFFICE, now=START)
    assert s.targets["first_response"].due_at == ist(2026, 11, 20, 17, 45)
    assert s.targets["resolution"].due_at == ist(2026, 11, 23, 10, 30)
    assert s.targets["next_response"].due_at is None


# --- properties ---------------------------------------------------------------------------------

BASE = datetime(2026, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=400 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
calendars = st.sampled_from([OFFICE, ALWAYS, Calendar(tz="Europe/Berlin"),
                             Calendar(week=(((9 * 60, 12 * 60), (13 * 60, 18 * 60)),) * 6 + ((),))])


@settings(max_examples=150, deadline=None)
@given(cal_=calendars, start=moments, minutes=st.integers(min_value=0, max_value=20_000))
def test_due_is_never_before_start_and_round_trips(cal_, start, minutes):
    due = cal.add(cal_, start, minutes)
    assert due is not None and due >= start
    assert cal.between(cal_, start, due) == timedelta(minutes=minutes)


@st.composite
def histories(draw):
    start = draw(moments)
    offsets = sorted(draw(st.lists(st.integers(min_value=1, max_value=20 * 24 * 60), max_size=6)))
    statuses = tuple((start + timedelta(minutes=o), draw(st.sampled_from(["open", "pending", "on_hold", "solved"])))
                     for o in offsets)
    reply_offsets = sorted(draw(st.lists(st.integers(min_value=1, max_value=20 * 24 * 60), max_size=6)))
    replies = tuple((start + timedelta(minutes=o), draw(st.sampled_from(["customer", "staff"])))
                    for o in reply_offsets)
    return History(start, statuses=statuses, replies=replies)


targets_st = st.builds(Targets, first_response=st.integers(1, 600), next_response=st.integers(1, 600),
                       resolution=st.integers(1, 6000), warn_percent=st.integers(1, 100),
                       pause_on_hold=st.booleans())


@settings(max_examples=120, deadline=None)
@given(history=histories(), targets=targets_st, cal_=calendars, later=st.integers(0, 30 * 24 * 60))
def test_state_invariants(history, targets, cal_, later):
    now = history.start + timedelta(minutes=later)
    first = state(history, targets, cal_, now)
    assert first == state(history, targets, cal_, now)  # same events, same answer
    for t in first.targets.values():
        if t.due_at is not None:
            assert t.due_at >= t.start
            assert t.warn_at <= t.due_at
        assert not (t.breached and t.due_at is None)


@settings(max_examples=120, deadline=None)
@given(history=histories(), targets=targets_st, cal_=calendars, at=st.integers(0, 10 * 24 * 60),
       length=st.integers(1, 5 * 24 * 60), later=st.integers(0, 30 * 24 * 60))
def test_pausing_never_makes_a_ticket_due_sooner(history, targets, cal_, at, length, later):
    """The same history with everything stopped for a while in ``pending``."""
    plain = History(history.start, statuses=(), replies=history.replies)
    p0 = history.start + timedelta(minutes=at)
    paused = History(history.start, statuses=((p0, "pending"), (p0 + timedelta(minutes=length), "open")),
                     replies=history.replies)
    now = history.start + timedelta(minutes=later)
    a, b = state(plain, targets, cal_, now), state(paused, targets, cal_, now)
    for name in ("first_response", "resolution"):
        da, db_ = a.targets[name].due_at, b.targets[name].due_at
        if da is not None and db_ is not None and a.targets[name].met_at == b.targets[name].met_at:
            assert db_ >= da
