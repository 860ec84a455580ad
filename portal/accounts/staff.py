"""Staff administration: members, roles, teams, API tokens and a staff member's own profile.

No Request objects here: callers pass parsed values, the acting staff member's id and
``now``. Rules that protect the help desk from locking itself out live here, not in the
handlers: nobody changes their own role or deactivates themselves, whatever a form says.
Passwords arrive already hashed (hashing is the caller's, off the event loop).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal import db
from portal.accounts.service import ROLES, AccountError
from portal.accounts.tables import ApiToken, Customer, StaffUser, Team, TeamMember
from portal.i18n import email_key

ASSIGNMENT_MODES = ("round_robin", "least_open")
LOCALES = ("tr", "en")

_LIST_COLUMNS = (StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.role, StaffUser.locale,
                 StaffUser.available, StaffUser.active, StaffUser.created_at, StaffUser.last_login_at)


# --- reading --------------------------------------------------------------------------------------

async def list_staff() -> list[dict]:
    """Every staff member with their teams (``teams``: slug, names, is_lead), active ones first."""
    rows = await StaffUser.select(*_LIST_COLUMNS).order_by(StaffUser.active, ascending=False).order_by(
        StaffUser.name)
    memberships = await _memberships()
    for row in rows:
        row["teams"] = memberships.get(row["id"], [])
    return rows


async def _memberships() -> dict[int, list[dict]]:
    rows = await TeamMember.select(
        TeamMember.staff, TeamMember.is_lead, TeamMember.team.id.as_alias("team_id"),
        TeamMember.team.slug.as_alias("slug"), TeamMember.team.name_tr.as_alias("name_tr"),
        TeamMember.team.name_en.as_alias("name_en"),
    ).order_by(TeamMember.team.slug)
    out: dict[int, list[dict]] = {}
    for row in rows:
        teams = out.setdefault(row["staff"], [])
        if all(t["team_id"] != row["team_id"] for t in teams):
            teams.append(row)
    return out


async def get_staff(staff_id: int) -> dict | None:
    return await StaffUser.select(*_LIST_COLUMNS).where(StaffUser.id == staff_id).first()


async def list_teams() -> list[dict]:
    """Every team with its members (``members``: id, name, email, role, active, available, is_lead)."""
    teams = await Team.select().order_by(Team.slug)
    rows = await TeamMember.select(
        TeamMember.team, TeamMember.is_lead, TeamMember.staff.id.as_alias("id"),
        TeamMember.staff.name.as_alias("name"), TeamMember.staff.email.as_alias("email"),
        TeamMember.staff.role.as_alias("role"), TeamMember.staff.active.as_alias("active"),
        TeamMember.staff.available.as_alias("available"),
    ).order_by(TeamMember.staff.name)
    by_team: dict[int, list[dict]] = {}
    for row in rows:
        members = by_team.setdefault(row["team"], [])
        if all(m["id"] != row["id"] for m in members):
            members.append(row)
    for team in teams:
        team["members"] = by_team.get(team["id"], [])
    return teams


async def get_team(team_id: int) -> dict | None:
    for team in await list_teams():
        if team["id"] == team_id:
            return team
    return None


async def list_api_tokens() -> list[dict]:
    """Tokens newest first, with who created them; never the secret (only its hash is kept)."""
    return await ApiToken.select(
        ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.last_used_at,
        ApiToken.revoked_at, ApiToken.created_by.name.as_alias("created_by_name"),
    ).order_by(ApiToken.id, ascending=False)


async def directory_counts() -> dict[str, int]:
    """Figures for the dashboard: active staff, teams, customers (not erased)."""
    return {
        "staff": await StaffUser.count().where(StaffUser.active == True),  # noqa: E712
        "teams": await Team.count(),
        "customers": await Customer.count().where(Customer.deleted_at.is_null()),
    }


# --- members --------------------------------------------------------------------------------------

async def add_staff_member(*, email: str, name: str, role: str, password_hash: str, now: datetime,
                           team_id: int | None = None, locale: str = "tr") -> dict:
    """A new staff account. Unlike ``service.create_staff`` (the CLI's idempotent upsert), an
    address that already belongs to someone is refused: the settings page never silently
    changes another person's role or password."""
    if role not in ROLES:
        raise AccountError("bad_role")
    if locale not in LOCALES:
        raise AccountError("bad_locale")
    key = email_key(email)
    async with db.transaction():
        if team_id is not None and not await Team.exists().where(Team.id == team_id):
            raise AccountError("no_team")
        rows = await StaffUser.insert(StaffUser(
            email=email.strip(), email_key=key, name=name, role=role, password_hash=password_hash,
            locale=locale, created_at=now,
        )).on_conflict(target=StaffUser.email_key, action="DO NOTHING").returning(StaffUser.id)
        if not rows:
            raise AccountError("email_taken")
        staff_id = rows[0]["id"]
        if team_id is not None:
            await TeamMember.insert(TeamMember(team=team_id, staff=staff_id, is_lead=False))
    return await get_staff(staff_id)


def _not_self(actor_id: int, staff_id: int) -> None:
    if actor_id == staff_id:
        raise AccountError("self")


async def change_role(actor_id: int, staff_id: int, role: str) -> None:
    """Only for someone else: an admin cannot demote themselves and nobody promotes themselves."""
    _not_self(actor_id, staff_id)
    if role not in ROLES:
        raise AccountError("bad_role")
    rows = await StaffUser.update({StaffUser.role: role}).where(
        StaffUser.id == staff_id).returning(StaffUser.id)
    if not rows:
        raise AccountError("not_found")


async def set_active(actor_id: int, staff_id: int, active: bool) -> None:
    """Deactivating ends the person's sessions at once (``session_version`` moves on) and takes
    them out of assignment; reactivating leaves them unavailable until they say otherwise."""
    _not_self(actor_id, staff_id)
    values: dict[Any, Any] = {StaffUser.active: active}
    if not active:
        values[StaffUser.available] = False
        values[StaffUser.session_version] = StaffUser.session_version + 1
    rows = await StaffUser.update(values).where(
        (StaffUser.id == staff_id) & (StaffUser.active != active)).returning(StaffUser.id)
    if not rows and not await StaffUser.exists().where(StaffUser.id == staff_id):
        raise AccountError("not_found")


# --- teams ----------------------------------------------------------------------------------------

async def create_team(*, slug: str, name_tr: str, name_en: str, assignment: str, now: datetime) -> dict:
    if assignment not in ASSIGNMENT_MODES:
        raise AccountError("bad_assignment")
    team = Team(slug=slug, name_tr=name_tr, name_en=name_en, assignment=assignment, created_at=now)
    rows = await Team.insert(team).on_conflict(target=Team.slug, action="DO NOTHING").returning(Team.id)
    if not rows:
        raise AccountError("slug_taken")
    return await Team.select().where(Team.id == rows[0]["id"]).first()


async def update_team(team_id: int, *, name_tr: str, name_en: str, assignment: str) -> None:
    """Rename a team or change how it assigns. The slug stays: the API, routing rules and
    other systems refer to teams by it."""
    if assignment not in ASSIGNMENT_MODES:
        raise AccountError("bad_assignment")
    values = {Team.name_tr: name_tr, Team.name_en: name_en, Team.assignment: assignment}
    rows = await Team.update(values).where(Team.id == team_id).returning(Team.id)
    if not rows:
        raise AccountError("not_found")


async def add_team_member(team_id: int, staff_id: int, *, lead: bool = False) -> None:
    async with db.transaction():
        if not await Team.exists().where(Team.id == team_id):
            raise AccountError("not_found")
        if not await StaffUser.exists().where(StaffUser.id == staff_id):
            raise AccountError("no_staff")
        existing = await TeamMember.select(TeamMember.id).where(
            (TeamMember.team == team_id) & (TeamMember.staff == staff_id)).first()
        if existing:
            raise AccountError("already_member")
        await TeamMember.insert(TeamMember(team=team_id, staff=staff_id, is_lead=lead))


async def remove_team_member(team_id: int, staff_id: int) -> None:
    rows = await TeamMember.delete().where(
        (TeamMember.team == team_id) & (TeamMember.staff == staff_id)).returning(TeamMember.id)
    if not rows:
        raise AccountError("not_member")


async def set_team_lead(team_id: int, staff_id: int, is_lead: bool) -> None:
    """Team leads are told about SLA breaches in their team; a team may have several."""
    rows = await TeamMember.update({TeamMember.is_lead: is_lead}).where(
        (TeamMember.team == team_id) & (TeamMember.staff == staff_id)).returning(TeamMember.id)
    if not rows:
        raise AccountError("not_member")


# --- one's own profile ----------------------------------------------------------------------------

async def update_own_profile(staff_id: int, *, name: str, locale: str) -> None:
    """Name and language only: role, active and e-mail are not the person's to change here."""
    if locale not in LOCALES:
        raise AccountError("bad_locale")
    await StaffUser.update({StaffUser.name: name, StaffUser.locale: locale}).where(StaffUser.id == staff_id)


async def set_available(staff_id: int, available: bool) -> None:
    """Available staff take new tickets by assignment; the rest keep theirs."""
    await StaffUser.update({StaffUser.available: available}).where(
        (StaffUser.id == staff_id) & (StaffUser.active == True))  # noqa: E712


async def staff_password_hash(staff_id: int) -> str | None:
    row = await StaffUser.select(StaffUser.password_hash).where(StaffUser.id == staff_id).first()
    return row["password_hash"] if row else None


async def change_own_password(staff_id: int, password_hash: str) -> int:
    """Returns the new session version: the caller keeps its session, every other one ends."""
    async with db.transaction():
        await StaffUser.update({
            StaffUser.password_hash: password_hash,
            StaffUser.session_version: StaffUser.session_version + 1,
        }).where(StaffUser.id == staff_id)
        row = await StaffUser.select(StaffUser.session_version).where(StaffUser.id == staff_id).first()
    return row["session_version"]
