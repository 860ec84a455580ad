"""One authorization policy for every route.

Each handler declares ``opt={"auth": ...}``: ``public``, ``customer``, ``agent``, ``lead``,
``admin`` or ``api``. The app-wide guard enforces it; a handler without a policy is refused
(fail closed), and ``tests/http/test_route_policies.py`` fails when one is added.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from portal.accounts.service import ROLE_RANK, api_token_for, role_at_least
from portal.clock import now

POLICIES = ("public", "customer", "agent", "lead", "admin", "api")

PUBLIC = {"auth": "public"}
CUSTOMER = {"auth": "customer"}
AGENT = {"auth": "agent"}
LEAD = {"auth": "lead"}
ADMIN = {"auth": "admin"}
# Bearer-token routes carry no cookie credentials, so there is no cross-site request to forge:
# Litestar's CSRF check (which would refuse every PUT/PATCH/POST from a shop) is skipped.
API = {"auth": "api", "exclude_from_csrf": True}


async def policy_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    policy = handler.opt.get("auth")
    if policy == "public":
        return
    if policy is None and connection.scope["path"].startswith("/schema"):
        return
    if policy not in POLICIES:
        raise PermissionDeniedException("route has no authorization policy")
    state = connection.scope["state"]["portal"]
    if policy == "customer":
        if state.customer is None:
            raise NotAuthorizedException()
        return
    if policy in ROLE_RANK:
        if state.staff is None:
            raise NotAuthorizedException()
        if not role_at_least(state.staff["role"], policy):
            raise PermissionDeniedException()
        return
    # api: a bearer token from `portal create-api-token` or the settings page
    header = connection.headers.get("authorization", "")
    scheme, _sep, secret = header.partition(" ")
    token = await api_token_for(secret.strip(), now=now()) if scheme.lower() == "bearer" else None
    if token is None:
        raise NotAuthorizedException("a valid API token is required")
    state.extra["api_token"] = token
