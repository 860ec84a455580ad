"""Managing calendars and policies (the admin pages call these with validated values).

Every change that can move due times recomputes the unsolved tickets at once, so the queue
never shows targets of a policy or calendar that no longer exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal import db
from portal.sla.service import recompute_open
from portal.sla.tables import BusinessCalendar, CalendarClosure, SlaPolicy

CALENDAR_FIELDS = ("name", "timezone", "always_open", "public_holidays", "mon", "tue", "wed", "thu", "fri", "sat",
                   "sun")
POLICY_FIELDS = ("name", "active", "priorities", "team_ids", "form_slugs", "channels", "segments",
                 "first_response_minutes", "next_response_minutes", "resolution_minutes", "warn_percent",
                 "pause_on_hold", "calendar")


class SlaAdminError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- calendars ------------------------------------------------------------------------------------

async def list_calendars() -> list[dict]:
    rows = await BusinessCalendar.select().order_by(BusinessCalendar.is_default, ascending=False).order_by(
        BusinessCalendar.id)
    used = await SlaPolicy.select(SlaPolicy.calendar).output(as_list=True)
    for row in rows:
        row["policies"] = used.count(row["id"])
    return rows


async def get_calendar(calendar_id: int) -> dict | None:
    row = await BusinessCalendar.select().where(BusinessCalendar.id == calendar_id).first()
    if row is not None:
        row["closures"] = await CalendarClosure.select().where(CalendarClosure.calendar == calendar_id).order_by(
            CalendarClosure.starts_at)
    return row


async def save_calendar(calendar_id: int | None, values: dict[str, Any], *, now: datetime) -> int:
    data = {getattr(BusinessCalendar, k): values[k] for k in CALENDAR_FIELDS}
    async with db.transaction():
        if calendar_id is None:
            rows = await BusinessCalendar.insert(BusinessCalendar(
                **{k: values[k] for k in CALENDAR_FIELDS}, created_at=now)).returning(BusinessCalendar.id)
            calendar_id = rows[0]["id"]
        elif not await BusinessCalendar.update(data).where(BusinessCalendar.id == calendar_id).returning(
                BusinessCalendar.id):
            raise SlaAdminError("not_found")
    await recompute_open(now)
    return calendar_id


async def delete_calendar(calendar_id: int, *, now: datetime) -> None:
    """Refused for the default calendar and for one a policy counts in."""
    row = await BusinessCalendar.select().where(BusinessCalendar.id == calendar_id).first()
    if row is None:
        raise SlaAdminError("not_found")
    if row["is_default"] or await SlaPolicy.exists().where(SlaPolicy.calendar == calendar_id):
        raise SlaAdminError("in_use")
    async with db.transaction():
        await BusinessCalendar.delete().where(BusinessCalendar.id == calendar_id)


async def add_closure(calendar_id: int, name: str, starts_at: datetime, ends_at: datetime, *,
                      now: datetime) -> None:
    if not await BusinessCalendar.exists().where(BusinessCalendar.id == calendar_id):
        raise SlaAdminError("not_found")
    async with db.transaction():
        await CalendarClosure.insert(CalendarClosure(calendar=calendar_id, name=name, starts_at=starts_at,
                                                     ends_at=ends_at))
    await recompute_open(now)


async def delete_closure(calendar_id: int, closure_id: int, *, now: datetime) -> None:
    async with db.transaction():
        rows = await CalendarClosure.delete().where(
            (CalendarClosure.id == closure_id) & (CalendarClosure.calendar == calendar_id)).returning(
            CalendarClosure.id)
    if not rows:
        raise SlaAdminError("not_found")
    await recompute_open(now)


# --- policies -------------------------------------------------------------------------------------

async def list_policies() -> list[dict]:
    return await SlaPolicy.select(*SlaPolicy.all_columns(), SlaPolicy.calendar.name.as_alias("calendar_name")
                                  ).order_by(SlaPolicy.position).order_by(SlaPolicy.id)


async def get_policy(policy_id: int) -> dict | None:
    return await SlaPolicy.select().where(SlaPolicy.id == policy_id).first()


async def save_policy(policy_id: int | None, values: dict[str, Any], *, now: datetime) -> int:
    if not await BusinessCalendar.exists().where(BusinessCalendar.id == values["calendar"]):
        raise SlaAdminError("no_calendar")
    async with db.transaction():
        if policy_id is None:
            last = await SlaPolicy.select(SlaPolicy.position).order_by(SlaPolicy.position, ascending=False).first()
            rows = await SlaPolicy.insert(SlaPolicy(**{k: values[k] for k in POLICY_FIELDS},
                                                    position=(last["position"] + 1) if last else 1,
                                                    created_at=now)).returning(SlaPolicy.id)
            policy_id = rows[0]["id"]
        elif not await SlaPolicy.update({getattr(SlaPolicy, k): values[k] for k in POLICY_FIELDS}).where(
                SlaPolicy.id == policy_id).returning(SlaPolicy.id):
            raise SlaAdminError("not_found")
    await recompute_open(now)
    return policy_id


async def move_policy(policy_id: int, step: int, *, now: datetime) -> None:
    """Swap a policy with its neighbour (``step`` -1: earlier, +1: later)."""
    ordered = await SlaPolicy.select(SlaPolicy.id).order_by(SlaPolicy.position).order_by(SlaPolicy.id).output(
        as_list=True)
    if policy_id not in ordered:
        raise SlaAdminError("not_found")
    i = ordered.index(policy_id)
    j = i + step
    if not 0 <= j < len(ordered):
        return
    ordered[i], ordered[j] = ordered[j], ordered[i]
    async with db.transaction():
        for position, pid in enumerate(ordered, start=1):
            await SlaPolicy.update({SlaPolicy.position: position}).where(SlaPolicy.id == pid)
    await recompute_open(now)


async def delete_policy(policy_id: int, *, now: datetime) -> None:
    async with db.transaction():
        rows = await SlaPolicy.delete().where(SlaPolicy.id == policy_id).returning(SlaPolicy.id)
    if not rows:
        raise SlaAdminError("not_found")
    await recompute_open(now)
