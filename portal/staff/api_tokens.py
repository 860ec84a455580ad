"""/staff/settings/api-tokens (admins only): create, list and revoke bearer tokens for the JSON API.

A new token is shown once, in the answer to the POST itself. That answer is a page, not a
redirect: the alternative, keeping the secret in the session until the next page, would
write it to the session store. Only its SHA-256 is kept in the database.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.accounts import service as accounts
from portal.accounts import staff as staff_admin
from portal.auth import ADMIN
from portal.clock import now
from portal.i18n import _
from portal.staff.common import changed
from portal.web import Form, FormBody, ctx, render

TOKENS = "staff/settings/api_tokens.html"
NO_STORE = {"Cache-Control": "no-store"}


async def tokens_page(request: Request, *, form: Form | None = None, status: int = 200,
                      notice: tuple[str, str] | None = None, new_token: str | None = None) -> Template:
    return render(request, TOKENS, block="tokens_section", status=status, form=form or Form({}),
                  notice=notice, new_token=new_token, tokens=await staff_admin.list_api_tokens(),
                  headers=NO_STORE)


@get("/staff/settings/api-tokens", opt=ADMIN, include_in_schema=False)
async def api_tokens(request: Request) -> Template:
    return await tokens_page(request)


@post("/staff/settings/api-tokens", opt=ADMIN, include_in_schema=False)
async def create_token(request: Request, data: FormBody) -> Template:
    form = Form(data)
    name = form.text("name", max_length=120)
    if not form.ok:
        return await tokens_page(request, form=form, status=422)
    secret = await accounts.create_api_token(name, now=now(), created_by=ctx(request).staff["id"])
    return await tokens_page(request, new_token=secret, notice=(
        "success", _("Token “%(name)s” created. Copy it now: it will not be shown again.", name=name)))


@post("/staff/settings/api-tokens/{token_id:int}/revoke", opt=ADMIN, include_in_schema=False)
async def revoke_token(request: Request, token_id: int) -> Response | Template:
    if not await accounts.revoke_api_token(token_id, now=now()):
        raise NotFoundException()
    return await changed(request, _("The token has been revoked; requests with it are refused from now on."),
                         "/staff/settings/api-tokens", tokens_page)


ROUTES = [api_tokens, create_token, revoke_token]
