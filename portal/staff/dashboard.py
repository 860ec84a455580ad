"""The staff dashboard: figures that exist and links to the sections that exist.

Sections are listed only when their page is registered *and* the viewer's role may open it
(read from the route's own ``auth`` policy), so the dashboard never links to a page that
is not there yet or that would answer 403.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from portal.accounts import staff as staff_admin
from portal.accounts.service import ROLE_RANK, role_at_least
from portal.auth import AGENT
from portal.i18n import _
from portal.mail import queries as mail_queries
from portal.web import ctx, render


def _known_sections() -> list[tuple[str, str]]:
    """Staff sections of the product, in menu order (SPEC §6)."""
    return [
        ("/staff/queue", _("Ticket queue")),
        ("/staff/orders", _("Orders")),
        ("/staff/kb", _("Knowledge base")),
        ("/staff/forms", _("Request forms")),
        ("/staff/surveys", _("Surveys")),
        ("/staff/reports", _("Reports")),
        ("/staff/mail", _("Mail log")),
        ("/staff/settings", _("Settings")),
        ("/staff/profile", _("Your profile")),
    ]


def sections_for(request: Request, role: str) -> list[tuple[str, str]]:
    handlers = request.app.route_handler_method_map
    out = []
    for path, label in _known_sections():
        handler = handlers.get(path, {}).get("GET")
        policy = handler.opt.get("auth") if handler is not None else None
        if policy in ROLE_RANK and role_at_least(role, policy):
            out.append((path, label))
    return out


@get("/staff", opt=AGENT, include_in_schema=False)
async def dashboard(request: Request) -> Template:
    return render(request, "staff/dashboard.html", mail=await mail_queries.outbox_counts(),
                  counts=await staff_admin.directory_counts(),
                  sections=sections_for(request, ctx(request).staff["role"]))


ROUTES = [dashboard]
