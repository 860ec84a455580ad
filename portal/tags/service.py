"""Tagging rules: names are cleaned and matched Turkish-aware (``İade`` = ``iade`` = ``IADE``),
each record carries a tag at most once, and suggestions put the most used tags first.

Callers pass a kind (``customer``, ``order``, ``ticket``, ``article``) and record ids; this
module never checks that the record exists or who may tag it: that is the caller's rule.
"""

from __future__ import annotations

import re
from datetime import datetime

from piccolo.columns.combination import WhereRaw

from portal import db
from portal.i18n import search_fold
from portal.tags.tables import Tag, Tagging

KINDS = ("customer", "order", "ticket", "article")
MAX_LENGTH = 40
MAX_PER_RECORD = 20

_SPACES = re.compile(r"\s+")
# Commas separate tags in the forms; slashes and the rest would make awkward URLs.
_NOT_ALLOWED = re.compile(r"[,/\\#?%<>\"'`\x00-\x1f\x7f]")


def clean(raw: str) -> str:
    """A tag as it will be stored and shown, or ``""`` when nothing usable is left."""
    name = _NOT_ALLOWED.sub(" ", raw or "")
    return _SPACES.sub(" ", name).strip()[:MAX_LENGTH].strip()


def key(name: str) -> str:
    return search_fold(clean(name))


def parse(text: str | list[str] | None) -> list[str]:
    """Tags typed as ``a, b, c`` (or given as a list): cleaned, without duplicates, in order."""
    parts = text if isinstance(text, list) else (text or "").split(",")
    seen: set[str] = set()
    out: list[str] = []
    for part in parts:
        name = clean(str(part))
        if name and key(name) not in seen:
            seen.add(key(name))
            out.append(name)
    return out[:MAX_PER_RECORD]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown tag kind {kind!r}")


async def ensure(names: list[str], *, now: datetime) -> dict[str, int]:
    """Tag ids by key, creating the tags that do not exist yet (the first spelling wins)."""
    wanted = {key(n): clean(n) for n in names if clean(n)}
    if not wanted:
        return {}
    rows = await Tag.select(Tag.id, Tag.name_key).where(Tag.name_key.is_in(list(wanted)))
    found = {r["name_key"]: r["id"] for r in rows}
    missing = [Tag(name=name, name_key=k, created_at=now) for k, name in wanted.items() if k not in found]
    if missing:
        await Tag.insert(*missing).on_conflict(action="DO NOTHING")
        rows = await Tag.select(Tag.id, Tag.name_key).where(Tag.name_key.is_in(list(wanted)))
        found = {r["name_key"]: r["id"] for r in rows}
    return found


async def add(kind: str, object_ids: list[int], names: list[str], *, by: int | None, now: datetime) -> None:
    """Put each tag on each record; a tag already there stays as it was."""
    _check_kind(kind)
    ids = await ensure(names, now=now)
    rows = [Tagging(tag=tag_id, kind=kind, object_id=oid, created_by=by, created_at=now)
            for oid in object_ids for tag_id in ids.values()]
    if rows:
        await Tagging.insert(*rows).on_conflict(action="DO NOTHING")


async def add_to_new(kind: str, object_id: int, names: list[str], *, by: int | None, now: datetime) -> None:
    """:func:`add` for a record created in this transaction (it carries no tag yet): one
    ``INSERT … SELECT`` by tag key when every tag exists already, the usual way otherwise."""
    _check_kind(kind)
    wanted = list({key(n): None for n in names if clean(n)})
    if not wanted:
        return
    rows = await db.fetch_all(
        "INSERT INTO tagging (tag, kind, object_id, created_by, created_at) SELECT id, {}, {}, {}, {} FROM tag "
        "WHERE name_key IN (" + ", ".join(["{}"] * len(wanted)) + ") RETURNING tag",
        kind, object_id, by, now, *wanted)
    if len(rows) < len(wanted):  # a tag that does not exist yet: made, then put on (a tagging there stays)
        await add(kind, [object_id], names, by=by, now=now)


async def remove(kind: str, object_id: int, names: list[str]) -> None:
    _check_kind(kind)
    keys = [key(n) for n in names if key(n)]
    if not keys:
        return
    tag_ids = await Tag.select(Tag.id).where(Tag.name_key.is_in(keys)).output(as_list=True)
    if tag_ids:
        await Tagging.delete().where((Tagging.kind == kind) & (Tagging.object_id == object_id)
                                     & Tagging.tag.is_in(tag_ids))


async def replace(kind: str, object_id: int, names: list[str], *, by: int | None,
                  now: datetime) -> tuple[list[str], list[str]]:
    """Make the record's tags exactly ``names``; returns (added, removed) names."""
    _check_kind(kind)
    current = (await of(kind, [object_id])).get(object_id, [])
    current_keys = {key(n): n for n in current}
    wanted = {key(n): n for n in parse(names)}
    added = [n for k, n in wanted.items() if k not in current_keys]
    removed = [n for k, n in current_keys.items() if k not in wanted]
    if added:
        await add(kind, [object_id], added, by=by, now=now)
    if removed:
        await remove(kind, object_id, removed)
    return added, removed


async def of(kind: str, object_ids: list[int]) -> dict[int, list[str]]:
    """Tag names per record, alphabetical, for a whole page of records in one query."""
    _check_kind(kind)
    if not object_ids:
        return {}
    rows = await Tagging.select(Tagging.object_id, Tagging.tag.name.as_alias("name")).where(
        (Tagging.kind == kind) & Tagging.object_id.is_in(list(set(object_ids)))
    ).order_by(Tagging.tag.name_key)
    out: dict[int, list[str]] = {}
    for row in rows:
        out.setdefault(row["object_id"], []).append(row["name"])
    return out


async def suggest(prefix: str, *, limit: int = 10) -> list[dict]:
    """Existing tags starting with (or else containing) what was typed, most used first."""
    folded = key(prefix)
    pattern = folded.replace("%", "").replace("_", "")
    query = """
        SELECT tag.name AS name, COUNT(tagging.id) AS uses,
               CASE WHEN tag.name_key LIKE {} THEN 0 ELSE 1 END AS rank
        FROM tag LEFT JOIN tagging ON tagging.tag = tag.id
        WHERE tag.name_key LIKE {}
        GROUP BY tag.id, tag.name, tag.name_key
        ORDER BY rank, uses DESC, tag.name_key
        LIMIT {}
    """
    rows = await Tag.raw(query, pattern + "%", "%" + pattern + "%", limit)
    return [{"name": r["name"], "uses": int(r["uses"])} for r in rows]


async def get(name: str) -> dict | None:
    k = key(name)
    return await Tag.select().where(Tag.name_key == k).first() if k else None


async def records(tag_id: int, kind: str, *, limit: int = 200) -> list[int]:
    """Ids of the records of one kind that carry the tag, newest tagging first."""
    _check_kind(kind)
    return await Tagging.select(Tagging.object_id).where(
        (Tagging.tag == tag_id) & (Tagging.kind == kind)
    ).order_by(Tagging.id, ascending=False).limit(limit).output(as_list=True)


def with_tag_where(kind: str, name: str, id_column: str) -> WhereRaw:
    """A WHERE clause for queries of another app: the record (``id_column``) has the tag."""
    _check_kind(kind)
    return WhereRaw(
        id_column + " IN (SELECT tagging.object_id FROM tagging JOIN tag ON tag.id = tagging.tag "
        "WHERE tagging.kind = {} AND tag.name_key = {})", kind, key(name))
