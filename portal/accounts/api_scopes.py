"""What an API token may do.

``ApiToken.scopes`` is ``"*"`` (everything, the default) or a comma-separated list of scope
names such as ``"orders"`` or ``"orders,tickets"``. An endpoint names the scope it needs;
a token without it gets 403 (the token is valid, it just may not do this).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SCOPES = ("orders", "tickets")


def parse_scopes(value: str | None) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in (value or "*").split(",") if part.strip())


def format_scopes(scopes: Iterable[str]) -> str:
    """``"*"`` for nothing or anything that includes ``*``; else the names, sorted."""
    names = {s.strip().lower() for s in scopes if s.strip()}
    if not names or "*" in names:
        return "*"
    return ",".join(sorted(names))


def token_allows(token_row: Mapping[str, Any] | None, scope: str) -> bool:
    if token_row is None:
        return False
    granted = parse_scopes(token_row.get("scopes"))
    return "*" in granted or scope in granted
