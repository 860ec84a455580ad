"""The route-policy safety net: every handler declares who may call it, and the guard fails closed.

A new route without ``opt=PUBLIC|CUSTOMER|AGENT|LEAD|ADMIN|API`` fails this file, naming
the handler. Staff pages must need a staff role and API endpoints a token, except for the
short allow-list of public ones below; widening it is a decision to make in review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from litestar import get, post
from litestar.handlers import HTTPRouteHandler

from portal.app import create_app
from portal.auth import POLICIES
from tests.conftest import base_settings, staff_login

STAFF_POLICIES = {"agent", "lead", "admin"}

# (path, method) pairs under /staff and /api that anyone may call. Path parameters are
# written without their type: "/api/v1/forms/{slug}".
PUBLIC_ALLOW_LIST = {
    ("/staff/login", "GET"),
    ("/staff/login", "POST"),
    ("/staff/logout", "POST"),
    # SPEC §7: the form definition and its submissions, and KB search, are public API.
    ("/api/v1/forms/{slug}", "GET"),
    ("/api/v1/forms/{slug}/submissions", "POST"),
    # CORS preflight for the form API, answered for the form's allowed origins only.
    ("/api/v1/forms/{slug}", "OPTIONS"),
    ("/api/v1/forms/{slug}/submissions", "OPTIONS"),
    ("/api/v1/kb/search", "GET"),
}


def _bare(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _handlers(app) -> Iterator[tuple[str, HTTPRouteHandler]]:
    for route in app.routes:
        for handler in route.route_handlers:
            yield route.path, handler


def _describe(path: str, handler) -> str:
    methods = ",".join(sorted(getattr(handler, "http_methods", ()) or ()))
    return f"{handler.fn.__module__}.{handler.handler_name} ({methods} {path})"


def _generated_by_litestar(handler) -> bool:
    """Litestar's own handlers: automatic OPTIONS answers and the OpenAPI schema."""
    return handler.fn.__module__.startswith("litestar.")


def _app(tmp_path):
    return create_app(base_settings(f"sqlite:///{tmp_path / 'routes.sqlite3'}", tmp_path / "var"))


def test_every_route_declares_an_auth_policy(tmp_path):
    problems = _missing_policies(_app(tmp_path))
    assert not problems, "\n".join(problems)


def _missing_policies(app) -> list[str]:
    problems = []
    for path, handler in _handlers(app):
        policy = handler.opt.get("auth")
        if _generated_by_litestar(handler):
            # Without a policy the guard refuses these (automatic OPTIONS) or lets them through
            # only under /schema (the OpenAPI document); nothing else may lack one.
            methods = set(getattr(handler, "http_methods", ()) or ())
            if policy is None and not (_under(path, "/schema") or methods == {"OPTIONS"}):
                problems.append(f"{_describe(path, handler)} is Litestar's and has no auth policy")
            continue
        if policy not in POLICIES:
            problems.append(f"{_describe(path, handler)} has auth={policy!r}; use one of {POLICIES}")
    return problems


def test_staff_and_api_routes_need_the_right_kind_of_log_in(tmp_path):
    problems = _misplaced_policies(_app(tmp_path))
    assert not problems, "\n".join(problems)


def _misplaced_policies(app) -> list[str]:
    problems = []
    for path, handler in _handlers(app):
        if _generated_by_litestar(handler):
            continue
        policy = handler.opt.get("auth")
        for method in sorted(getattr(handler, "http_methods", ()) or ()):
            public_ok = (_bare(path), method) in PUBLIC_ALLOW_LIST
            if _under(path, "/staff"):
                expected = STAFF_POLICIES | ({"public"} if public_ok else set())
            elif _under(path, "/api"):
                expected = {"api"} | ({"public"} if public_ok else set())
            else:
                continue
            if policy not in expected:
                problems.append(
                    f"{_describe(path, handler)} has auth={policy!r}; expected one of {sorted(expected)}"
                )
    return problems


def test_the_staff_pages_we_know_of_are_checked(tmp_path):
    """Guard against the walk silently finding nothing (e.g. routes mounted differently)."""
    paths = {(_bare(path), handler.opt.get("auth")) for path, handler in _handlers(_app(tmp_path))}
    assert ("/staff/settings", "admin") in paths
    assert ("/staff/settings/members/{staff_id}/role", "admin") in paths
    assert ("/staff", "agent") in paths
    assert ("/staff/profile", "agent") in paths
    assert ("/staff/login", "public") in paths


# --- behaviour: the guard fails closed -------------------------------------------------------------


@get("/staff/forgotten-policy", include_in_schema=False)
async def forgotten_policy() -> str:
    return "should never be served"


@post("/forgotten-policy", include_in_schema=False)
async def forgotten_policy_post() -> str:
    return "should never be served"


@get("/staff/unknown-policy", opt={"auth": "everyone"}, include_in_schema=False)
async def unknown_policy() -> str:
    return "should never be served"


@get("/explicitly-public", opt={"auth": "public"}, include_in_schema=False)
async def explicitly_public() -> str:
    return "hello"


@get("/staff/customer-only", opt={"auth": "customer"}, include_in_schema=False)
async def customer_page_under_staff() -> str:
    return "wrong place"


@post("/api/v1/open-door", opt={"auth": "public"}, include_in_schema=False)
async def public_api_not_allowed() -> str:
    return "wrong policy"


def test_the_checks_name_the_offending_handlers(tmp_path):
    """The net catches what it is for: a forgotten policy, an unknown one, the wrong kind."""
    app = _app(tmp_path)
    for handler in (
        forgotten_policy,
        forgotten_policy_post,
        unknown_policy,
        explicitly_public,
        customer_page_under_staff,
        public_api_not_allowed,
    ):
        app.register(handler)
    missing = "\n".join(_missing_policies(app))
    assert "forgotten_policy (GET /staff/forgotten-policy)" in missing
    assert "forgotten_policy_post (POST /forgotten-policy)" in missing
    assert "unknown_policy (GET /staff/unknown-policy)" in missing
    assert "explicitly_public" not in missing
    misplaced = "\n".join(_misplaced_policies(app))
    assert "customer_page_under_staff (GET /staff/customer-only)" in misplaced
    assert "public_api_not_allowed (POST /api/v1/open-door)" in misplaced


async def test_a_handler_without_a_policy_is_refused(app, client, dave):
    registered = {route.path for route in app.routes}
    for handler in (forgotten_policy, forgotten_policy_post, unknown_policy, explicitly_public):
        if handler.paths.isdisjoint(registered):  # the app is reused by tests with the same settings
            app.register(handler)

    for who in ("anonymous", "admin"):
        if who == "admin":
            await staff_login(client, dave)
        response = await client.get("/staff/forgotten-policy")
        assert response.status_code == 403, who
        assert "should never be served" not in response.text
        response = await client.get("/staff/unknown-policy")
        assert response.status_code == 403, who
        response = await client.post_form("/forgotten-policy")
        assert response.status_code == 403, who
    # The control: the same kind of handler with a policy is served.
    response = await client.get("/explicitly-public")
    assert response.status_code == 200 and response.text == "hello"


async def test_automatic_options_answers_are_refused_too(client, dave):
    response = await client.request("OPTIONS", "/staff/settings")
    assert response.status_code == 403
