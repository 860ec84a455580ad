"""The SLA clock: a ticket's targets from its history, its policy's numbers, a calendar and
``now``. Pure: the same history gives the same answer, and nothing here reads the database
or the wall clock.

Targets (SPEC §9):

- ``first_response``: from the ticket's start to the first public staff reply;
- ``next_response``: after that, from a customer's message to the next public staff reply
  (one cycle at a time; a new cycle starts with the first customer message after a reply);
- ``resolution``: from the ticket's start until it is solved (a reopened ticket's clock runs
  on, the time it spent solved not counted).

The clock runs in the calendar's business time and stops while the ticket is ``pending``
(always), ``on_hold`` (when the policy says so) and ``solved``/``closed``. While a ticket is
paused its due times are shown as if the clock restarted now: pausing never brings a due
time closer. A change of priority (or team, form …) may pick another policy: the targets are
then computed again from the ticket's start with the new numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.sla import calendar as cal_mod
from portal.sla.calendar import Calendar, Interval

TARGETS = ("first_response", "next_response", "resolution")
STOPPED = ("solved", "closed")


@dataclass(frozen=True)
class Targets:
    """A policy's numbers, in business minutes (None: no such target)."""

    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None
    warn_percent: int = 80
    pause_on_hold: bool = False

    def minutes(self, target: str) -> int | None:
        return getattr(self, target)


@dataclass(frozen=True)
class History:
    """What the clock needs of a ticket: its start, its status changes ``(at, new status)``
    and its public replies ``(at, "customer" | "staff")`` after the opening message, each in
    the order they happened."""

    start: datetime
    statuses: tuple[tuple[datetime, str], ...] = ()
    replies: tuple[tuple[datetime, str], ...] = ()
    initial_status: str = "new"


@dataclass(frozen=True)
class TargetState:
    target: str
    start: datetime | None  # None: the target is not running (no cycle, or no number)
    minutes: int | None
    due_at: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    breached: bool
    paused: bool
    remaining: timedelta | None  # business time left (negative once over), at met_at or now
    elapsed: timedelta | None  # business time used, at met_at or now

    @property
    def active(self) -> bool:
        return self.start is not None and self.minutes is not None


@dataclass(frozen=True)
class SlaState:
    targets: dict[str, TargetState]
    paused_since: datetime | None  # the start of the current pause (None when running or stopped)
    stopped: bool  # solved or closed

    @property
    def breached(self) -> bool:
        return any(t.breached for t in self.targets.values())

    @property
    def due_at(self) -> datetime | None:
        """The nearest due time of the targets still running: what the queue sorts on."""
        if self.paused_since is not None or self.stopped:
            return None
        dues = [t.due_at for t in self.targets.values() if t.met_at is None and t.due_at is not None]
        return min(dues) if dues else None


def _pausing(targets: Targets) -> frozenset[str]:
    return frozenset({"pending", *STOPPED, *(("on_hold",) if targets.pause_on_hold else ())})


def timeline(history: History, now: datetime) -> list[tuple[datetime, str]]:
    """(since, status) segments up to ``now``, the first at the start."""
    segments = [(history.start, history.initial_status)]
    for at, status in history.statuses:
        if at > now:
            break
        segments.append((max(at, history.start), status))
    return segments


def pauses(history: History, targets: Targets, now: datetime) -> list[Interval]:
    """The intervals the clock stood still; an ongoing pause ends at ``now``."""
    stop = _pausing(targets)
    segments = timeline(history, now)
    out: list[Interval] = []
    for i, (since, status) in enumerate(segments):
        until = segments[i + 1][0] if i + 1 < len(segments) else now
        if status in stop and until > since:
            if out and out[-1][1] == since:
                out[-1] = (out[-1][0], until)
            else:
                out.append((since, until))
    return out


def _replies(history: History, now: datetime) -> list[tuple[datetime, str]]:
    return [(at, who) for at, who in history.replies if at <= now and at >= history.start]


def first_response(history: History, now: datetime) -> tuple[datetime, datetime | None]:
    met = next((at for at, who in _replies(history, now) if who == "staff"), None)
    return history.start, met


def next_response(history: History, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(start, met) of the latest next-response cycle; (None, None) before any."""
    answered = False  # has staff replied since the last cycle started (or at all)?
    start: datetime | None = None
    met: datetime | None = None
    for at, who in _replies(history, now):
        if who == "staff":
            if start is not None and met is None:
                met = at
            answered = True
        elif answered and (start is None or met is not None):
            start, met = at, None  # a new cycle: the customer wrote after our reply
            answered = False
    return start, met


def resolution(history: History, now: datetime) -> tuple[datetime, datetime | None]:
    segments = timeline(history, now)
    since, status = segments[-1]
    return history.start, (since if status in STOPPED else None)


def _target(name: str, start: datetime | None, met: datetime | None, minutes: int | None, targets: Targets,
            cal: Calendar, all_pauses: Sequence[Interval], now: datetime, paused: bool) -> TargetState:
    if start is None or minutes is None:
        return TargetState(name, None, minutes, None, None, met, False, False, None, None)
    end = met if met is not None else now
    # Only the pauses before the target ended matter to it.
    relevant = [(a, min(b, end)) for a, b in all_pauses if a < end and b > start]
    due = cal_mod.add(cal, start, minutes, relevant)
    warn = cal_mod.add(cal, start, minutes * targets.warn_percent / 100, relevant)
    elapsed = cal_mod.between(cal, start, end, relevant)
    remaining = timedelta(minutes=minutes) - elapsed
    breached = due is not None and (met > due if met is not None else now >= due)
    return TargetState(name, start, minutes, due, warn, met, breached, paused and met is None, remaining,
                       elapsed)


def state(history: History, targets: Targets, cal: Calendar, now: datetime) -> SlaState:
    """Every target's state at ``now``."""
    segments = timeline(history, now)
    current_since, current = segments[-1]
    stop = _pausing(targets)
    stopped = current in STOPPED
    paused = current in stop
    all_pauses = pauses(history, targets, now)
    paused_since = next((a for a, b in reversed(all_pauses) if b >= now), current_since) if (
        paused and not stopped) else None
    starts = {
        "first_response": first_response(history, now),
        "next_response": next_response(history, now),
        "resolution": resolution(history, now),
    }
    out = {name: _target(name, *starts[name], targets.minutes(name), targets, cal, all_pauses, now, paused)
           for name in TARGETS}
    return SlaState(out, paused_since, stopped)
