"""The ticket rules that need no database: statuses and their transitions, priorities,
channels, references, who may change what. SPEC §9."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from portal.i18n import N_

NEW, OPEN, PENDING, ON_HOLD, SOLVED, CLOSED = "new", "open", "pending", "on_hold", "solved", "closed"
STATUSES = (NEW, OPEN, PENDING, ON_HOLD, SOLVED, CLOSED)
# "Open" in the wide sense: somebody still has to do something.
UNSOLVED = (NEW, OPEN, PENDING, ON_HOLD)
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("portal", "form", "email", "api", "phone", "staff")

STATUS_NAMES = {NEW: N_("New"), OPEN: N_("Open"), PENDING: N_("Pending"), ON_HOLD: N_("On hold"),
                SOLVED: N_("Solved"), CLOSED: N_("Closed")}
PRIORITY_NAMES = {"low": N_("Low"), "normal": N_("Normal"), "high": N_("High"), "urgent": N_("Urgent")}
CHANNEL_NAMES = {"portal": N_("Portal"), "form": N_("Web form"), "email": N_("E-mail"), "api": N_("API"),
                 "phone": N_("Phone"), "staff": N_("Staff")}

# Every allowed status change. ``closed`` is final: a reply to a closed ticket opens a
# follow-up ticket linked to it instead of reopening it.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({OPEN, PENDING, ON_HOLD, SOLVED}),
    OPEN: frozenset({PENDING, ON_HOLD, SOLVED}),
    PENDING: frozenset({OPEN, ON_HOLD, SOLVED}),
    ON_HOLD: frozenset({OPEN, PENDING, SOLVED}),
    SOLVED: frozenset({OPEN, CLOSED}),
    CLOSED: frozenset(),
}

# A solved ticket closes after this long without a reply.
CLOSE_AFTER = timedelta(days=7)

_REF = re.compile(r"^[Tt]-?(\d{1,9})$")


def can_transition(old: str, new: str) -> bool:
    return old == new or new in TRANSITIONS.get(old, frozenset())


def ref(number: int) -> str:
    return f"T-{number}"


def parse_ref(text: str) -> int | None:
    """``T-1042`` (or ``t1042``) to 1042; anything else to None."""
    m = _REF.match((text or "").strip())
    return int(m.group(1)) if m else None


def status_after_customer_reply(status: str) -> str:
    """A customer writing means the ball is in our court again (a new ticket stays new:
    nobody has answered yet; a closed one is never reopened, see ``TRANSITIONS``)."""
    return status if status in (NEW, CLOSED) else OPEN


# --- who is acting ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Who makes a change: a staff member (with role and teams), a customer, an API token or
    the system. Events record ``name`` as it was at the time."""

    kind: str  # staff | customer | api | system
    name: str = ""
    staff_id: int | None = None
    customer_id: int | None = None
    role: str | None = None
    team_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def staff(cls, row: dict, team_ids: set[int] | frozenset[int] = frozenset()) -> Actor:
        return cls("staff", row["name"], staff_id=row["id"], role=row["role"], team_ids=frozenset(team_ids))

    @classmethod
    def customer(cls, row: dict) -> Actor:
        return cls("customer", row.get("name") or row.get("email", ""), customer_id=row["id"])

    @classmethod
    def api(cls, token: dict) -> Actor:
        return cls("api", f"API: {token.get('name', '')}")

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "system")

    @property
    def is_lead(self) -> bool:
        return self.kind == "staff" and self.role in ("lead", "admin")


def may_change(actor: Actor, ticket: dict) -> bool:
    """Leads, admins, the API and the system change any ticket; an agent changes the tickets
    of their teams, tickets of no team, and tickets assigned to them."""
    if actor.kind in ("api", "system") or actor.is_lead:
        return True
    if actor.kind != "staff":
        return False
    return (ticket["team"] is None or ticket["team"] in actor.team_ids
            or ticket["assignee"] == actor.staff_id)


class TicketError(Exception):
    """A rule refused the change; ``code`` says which, for the caller to word."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class StaleVersion(TicketError):
    """The ticket changed after the caller read it; nothing was written."""

    def __init__(self, current: int) -> None:
        super().__init__("stale", str(current))
        self.current = current
