"""Small helpers shared by the staff pages: the form body type and "after a change"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.response import Template

from portal.web import flash, redirect

Page = Callable[..., Awaitable[Template]]


async def changed(request: Request, message: str, path: str, page: Page) -> Response | Template:
    """Without JavaScript: flash the message and 303 back to ``path`` (a reload never re-posts).
    With htmx: the refreshed block of the same page, with the message in it."""
    if getattr(request, "htmx", None):
        return await page(request, notice=("success", message))
    flash(request, message)
    return redirect(path)


def checked(data: dict[str, Any], name: str) -> bool:
    """A checkbox or a hidden ``0``/``1``: only an explicit yes counts."""
    value = data.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    return value in ("1", "on", "true", "yes")
