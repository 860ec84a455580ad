"""``python -m bench.kb``: 50,000 knowledge-base articles, then search under load.

1. A fresh database per engine (``bench.servers.database``), filled with ``--articles``
   articles (half Turkish, half English; 90% published for everyone, the rest drafts,
   archived, customers-only or staff-only) with a progress bar: batched ``executemany`` on
   SQLite (the FTS5 triggers index each row), ``COPY`` on PostgreSQL (the generated
   ``tsvector`` fills itself). The search text is made by the portal's own
   :func:`portal.kb.text.index_text`, word by word.
2. In-process (``--inprocess ROUNDS``, 0 to skip), in a process of its own: each search
   endpoint called through ASGI with every query of the mix, with the search result cache and
   without it: CPU (``time.process_time``) and wall µs per request, the wall time inside the
   search functions and, of that, inside SQL; the rest is the framework and rendering. This
   is the trustworthy figure on a shared machine.
3. The bare Litestar plaintext app and the portal, served the same way, loaded with wrk at
   each ``--connections`` count with a random query per request from a mix of common and
   rare words, Turkish inflections, prefixes (search-as-you-type) and two-word queries:
   ``GET /api/v1/kb/search`` (JSON, logs the search) and ``GET /kb/search`` (the page, typed:
   ``HX-Request``, the results block only); with the search cache, and again without it
   (``--search-cache``): the mix is small, so with the cache the load mostly measures hits.
4. Prints requests/s, p50 and p99.

Target (issue 7): p99 under 20 ms on PostgreSQL and under 30 ms on SQLite at 8 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.inprocess import call
from bench.servers import (
    BARE_FACTORY,
    PORTAL_FACTORY,
    REPORT_LUA,
    ROOT,
    Result,
    ServerConfig,
    check_page,
    database,
    portal_env,
    run_wrk,
    serving,
    which_wrk,
)
from portal.kb.text import index_text
from portal.settings import sqlite_path

console = Console()
BATCH = 2000
EPOCH = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

# Topics with their words (and Turkish inflections): an article is about one topic, like a
# real help center, so a topic word matches a few percent of the articles, not half of them.
TR_TOPICS = [
    "sipariş siparişim siparişler siparişlerim siparişiniz siparişi numara numarası durum durumu",
    "kargo kargom kargoya kargoda kargolar teslimat teslimatı paket paketi takip kurye",
    "iade iadeler iadesi iadem iadeye değişim ürün ürünler ürünü beden renk",
    "ödeme ödemeler ödemesi kart kartım taksit taksitler kredi banka havale kapıda",
    "hesap hesabım hesabınız şifre şifremi adres adresim giriş üyelik bilgileri",
    "fatura faturalar faturası vergi kurumsal arşiv belge",
    "kupon indirim kampanya puan hediye çeki",
    "garanti servis yedek parça arıza onarım",
    "hasarlı eksik kayıp gecikme şikayet",
    "mağaza İstanbul Ankara İzmir şube saat",
]
EN_TOPICS = [
    "order orders ordered number status",
    "shipping shipped shipment parcel parcels delivery delivered tracking courier",
    "return returns returned refund refunds exchange item items size colour",
    "payment payments card cards instalment instalments credit bank transfer cash",
    "account accounts password address addresses login membership details",
    "invoice invoices tax company archive document",
    "coupon discount campaign points gift voucher",
    "warranty service spare part fault repair",
    "damaged missing lost delay complaint",
    "store Istanbul Ankara Izmir branch hours",
]
TR_QUERIES = [
    "iade",
    "İADE",
    "iadeler",
    "sipariş",
    "siparislerim",
    "kargo",
    "kargom nerede",
    "ödeme",
    "odeme",
    "hesabım",
    "fatura",
    "teslimat süresi",
    "ışık",
    "IŞIK",
    "İstanbul",
    "taksit",
    "şifremi",
    "garanti",
    "kupon indirim",
    "hasarlı paket",
    "kar",
    "sipa",
    "iad",
    "teslim",
    "ürün değişim",
    "kapıda ödeme",
    "zebra",
    "mağaza adresi",
]
QUERIES = [
    *TR_QUERIES,
    "return",
    "refunds",
    "shipping",
    "order status",
    "invoice",
    "pass",
    "damaged parcel",
    "tracking number",
    "del",
    "warranty",
]


_SYLLABLES = "ka la me ri so tu pa de ne si ro ba ke li mu da ye ti go zu ha be ci fo".split()


def _vocabulary(domain: list[str], stop: list[str], size: int = 6000) -> tuple[list[str], list[float]]:
    """Stop words first, then the domain words, then a long tail of made-up words, weighted by
    Zipf's law (a word's frequency ~ 1/rank) like real text: a query for a topic word matches
    a few percent of the articles, a stop word nearly all of them."""
    rng = random.Random(3)
    tail = {"".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)} - set(
        domain
    )
    words = stop + domain + sorted(tail)[: size - len(stop) - len(domain)]
    return words, [1 / (rank + 1) for rank in range(len(words))]


_TR_STOP = "ve ile için bir bu da de olarak sonra önce içinde kadar gibi veya ama çok daha en ne".split()
_EN_STOP = "and with for a the this how why when which as after before within until like or but more".split()


def _topics(real: list[str], size: int = 30) -> list[list[str]]:
    """The real topics plus made-up ones, up to ``size``."""
    rng = random.Random(5)
    made_up = [["".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(8)] for _ in range(size)]
    return [t.split() for t in real] + made_up[: size - len(real)]


TR_VOCAB, EN_VOCAB = _vocabulary([], _TR_STOP), _vocabulary([], _EN_STOP)
TR_TOPIC_WORDS, EN_TOPIC_WORDS = _topics(TR_TOPICS), _topics(EN_TOPICS)


def _text(rng: random.Random, vocab: tuple[list[str], list[float]], n: int) -> list[str]:
    return rng.choices(vocab[0], cum_weights=None, weights=vocab[1], k=n)


_INDEX: dict[tuple[str, str], str] = {}


def _index(words: list[str], lang: str) -> str:
    """``index_text(" ".join(words), lang)``, word by word from a cache (the same result)."""
    out = []
    for w in words:
        key = (w, lang)
        if key not in _INDEX:
            _INDEX[key] = index_text(w, lang)
        out.append(_INDEX[key])
    return " ".join(out)


ARTICLE_COLUMNS = (
    "id",
    "translation_group",
    "lang",
    "slug",
    "title",
    "summary",
    "body_markdown",
    "body_html",
    "body_text",
    "toc",
    "search_title",
    "search_body",
    "status",
    "visibility",
    "publish_at",
    "views",
    "helpful_yes",
    "helpful_no",
    "suggest_clicks",
    "suggest_answered",
    "created_at",
    "updated_at",
)


def _picker(
    rng: random.Random, vocab: tuple[list[str], list[float]], topic: list[str], everything: list[str]
):
    def pick(k: int) -> list[str]:
        # 15% words of the article's topic, 0.5% of any topic, the rest general text.
        general = iter(_text(rng, vocab, k))
        out = []
        for _ in range(k):
            r = rng.random()
            out.append(
                rng.choice(topic) if r < 0.15 else rng.choice(everything) if r < 0.155 else next(general)
            )
        return out

    return pick


def _rows(n: int) -> Iterator[tuple]:
    rng = random.Random(7)
    for i in range(1, n + 1):
        lang = "tr" if i % 2 else "en"
        vocab = TR_VOCAB if lang == "tr" else EN_VOCAB
        topics = TR_TOPIC_WORDS if lang == "tr" else EN_TOPIC_WORDS
        topic = topics[rng.randrange(len(topics))]
        everything = [w for t in topics for w in t]
        pick = _picker(rng, vocab, topic, everything)
        title_words = [rng.choice(topic), *pick(rng.randint(2, 6))]
        paragraphs = [pick(rng.randint(20, 80)) for _ in range(rng.randint(2, 8))]
        body_words = [w for p in paragraphs for w in p]
        title = " ".join(title_words).capitalize()
        body = "\n\n".join(" ".join(p) for p in paragraphs)
        roll = rng.random()
        status = "published" if roll < 0.9 else ("draft" if roll < 0.95 else "archived")
        visibility = rng.choices(("everyone", "customers", "staff"), weights=(90, 5, 5))[0]
        at = EPOCH - timedelta(minutes=n - i)
        yield (
            i,
            uuid.UUID(int=(i + 1) // 2).hex,
            lang,
            f"a-{i}",
            title,
            " ".join(body_words[:20]),
            body,
            "".join(f"<p>{' '.join(p)}</p>" for p in paragraphs),
            body,
            "[]",
            _index(title_words, lang),
            _index(body_words, lang),
            status,
            visibility,
            at if status == "published" else None,
            rng.randint(0, 5000),
            0,
            0,
            0,
            0,
            at,
            at,
        )


def _batches(n: int) -> Iterator[list[tuple]]:
    batch = []
    for row in _rows(n):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(mark: str) -> str:
    names = ", ".join(f'"{c}"' for c in ARTICLE_COLUMNS)
    return f"INSERT INTO kb_article ({names}) VALUES ({', '.join([mark] * len(ARTICLE_COLUMNS))})"  # noqa: S608


def generate_sqlite(url: str, n: int, advance: Callable[[int], None]) -> None:
    conn = sqlite3.connect(sqlite_path(url))
    try:
        for batch in _batches(n):
            with conn:
                conn.executemany(
                    _insert("?"),
                    [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in batch],
                )
            advance(len(batch))
        conn.execute("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('optimize')")
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def generate_postgres(url: str, n: int, advance: Callable[[int], None]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for batch in _batches(n):
            await conn.copy_records_to_table("kb_article", columns=list(ARTICLE_COLUMNS), records=batch)
            advance(len(batch))
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('kb_article', 'id'), (SELECT MAX(id) FROM kb_article))"
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def generate(engine: str, url: str, n: int) -> float:
    started = time.monotonic()
    columns = (
        TextColumn(f"[bold]{engine}[/]: generating articles"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("articles", total=n)

        def advance(k: int) -> None:
            progress.advance(task, k)

        if engine == "sqlite":
            generate_sqlite(url, n, advance)
        else:
            asyncio.run(generate_postgres(url, n, advance))
    return time.monotonic() - started


def search_lua(path: str, lang_param: bool, queries_: list[str] = QUERIES) -> str:
    """A random query of ``queries_`` per request."""
    queries = json.dumps([quote(q) for q in queries_])
    suffix = "&lang=tr" if lang_param else ""
    return (
        f"""
local queries = {{{queries[1:-1]}}}
request = function()
  local q = queries[math.random(1, #queries)]
  return wrk.format("GET", "{path}?q=" .. q .. "{suffix}")
end
"""
        + REPORT_LUA
    )


def measure(args: argparse.Namespace, engine: str, url: str, folder: Path, work: Path) -> list[tuple]:
    config = ServerConfig(args.server, args.workers)
    report_lua = work / "report.lua"
    report_lua.write_text(REPORT_LUA)
    rows: list[tuple] = []

    def load(target: str, lua: Path, connections: int, headers: dict[str, str] | None = None) -> Result:
        if args.warmup:
            run_wrk(target, seconds=args.warmup, connections=connections, threads=1, lua=lua, headers=headers)
        return run_wrk(
            target, seconds=args.duration, connections=connections, threads=1, lua=lua, headers=headers
        )

    env = {
        k: v for k, v in portal_env(url, folder, "http://127.0.0.1").items() if not k.startswith("PORTAL_")
    }
    bare: dict[int, Result] = {}
    with serving(config, BARE_FACTORY, env, work / "bare.log", "/plaintext") as base:
        for c in args.connections:
            bare[c] = load(base + "/plaintext", report_lua, c)
            rows.append((engine, "bare /plaintext", c, bare[c]))
    api_lua, page_lua = work / f"api-{engine}.lua", work / f"page-{engine}.lua"
    api_lua.write_text(search_lua("/api/v1/kb/search", True))
    page_lua.write_text(search_lua("/kb/search", False))
    for cached in CACHE_MODES[args.search_cache]:
        factory, note = (PORTAL_FACTORY, "") if cached else (NO_CACHE_FACTORY, ", no cache")
        with serving(
            config, factory, portal_env(url, folder, "http://127.0.0.1"), folder / "portal.log", "/healthz"
        ) as base:
            first = check_page(base, "/api/v1/kb/search?q=iade&lang=tr")
            if first.status_code != 200 or not first.json()["items"]:
                raise RuntimeError(f"the search API answered {first.status_code}; see {folder / 'portal.log'}")
            for c in args.connections:
                rows.append((engine, f"GET /api/v1/kb/search{note}", c, load(base + "/", api_lua, c)))
                rows.append(
                    (
                        engine,
                        f"GET /kb/search (htmx block){note}",
                        c,
                        load(base + "/", page_lua, c, {"HX-Request": "true", "Accept-Language": "tr"}),
                    )
                )
    return rows


# The portal with the search result cache turned off: every request runs its queries (the
# query mix above is small enough that, with the cache, the load measures cache hits).
NO_CACHE_FACTORY = "bench.kb:create_app_without_search_cache"
CACHE_MODES = {"on": (True,), "off": (False,), "both": (True, False)}


def create_app_without_search_cache() -> Any:
    from portal.app import create_app
    from portal.kb import search

    search.CACHE_SIZE = 0
    return create_app()


# --- in-process: where the time of one search request goes ---------------------------------------

INPROCESS_TARGETS = {
    "/api/v1/kb/search": ("/api/v1/kb/search", "q={}&lang=tr", ()),
    "/kb/search (htmx)": ("/kb/search", "q={}", ((b"hx-request", b"true"), (b"accept-language", b"tr"))),
    "/kb/suggest": ("/kb/suggest", "subject={}", ((b"hx-request", b"true"), (b"accept-language", b"tr"))),
}


async def _inprocess(rounds: int) -> list[dict[str, Any]]:
    """Each target over the query mix, ``rounds`` times, with the cache and without: median of
    the per-round means of CPU (``time.process_time``) and wall µs per request, and, without
    the cache, the wall time spent in ``search_either``/``search`` and, inside it, in SQL."""
    import statistics

    from portal import db
    from portal.app import create_app
    from portal.kb import search
    from portal.kb.search import CACHE_SIZE
    from portal.kb.service import flush_search_log

    spent = {"search": 0.0, "sql": 0.0}

    def sql_timing(function: Callable) -> Callable:
        async def timed(sql: str, *args: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(sql, *args)
            finally:
                spent["sql"] += time.perf_counter() - started

        return timed

    def timing(function: Callable) -> Callable:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent["search"] += time.perf_counter() - started

        return timed

    # The search's own queries (search._fetch) and its cache's look-ups (db.fetch_one).
    db.fetch_one, search._fetch = sql_timing(db.fetch_one), sql_timing(search._fetch)
    search.search_either, search.search = timing(search.search_either), timing(search.search)
    app = create_app()
    out = []
    async with app.lifespan():
        for label, (path, template, headers) in INPROCESS_TARGETS.items():
            for cache_size in (CACHE_SIZE, 0):
                search.CACHE_SIZE = cache_size
                search.clear_cache()
                cpu_means, wall_means, search_means, sql_means = [], [], [], []
                for round_ in range(rounds + 1):  # round 0 warms up (and fills the cache)
                    spent.update(search=0.0, sql=0.0)
                    cpu, wall = time.process_time(), time.perf_counter()
                    for q in QUERIES:
                        if await call(app, path, query_string=template.format(quote(q)), headers=headers) != 200:
                            raise RuntimeError(f"{path}?{template.format(q)} failed")
                    if round_:
                        cpu_means.append((time.process_time() - cpu) / len(QUERIES) * 1e6)
                        wall_means.append((time.perf_counter() - wall) / len(QUERIES) * 1e6)
                        search_means.append(spent["search"] / len(QUERIES) * 1e6)
                        sql_means.append(spent["sql"] / len(QUERIES) * 1e6)
                await flush_search_log()
                out.append({"target": label, "cache": bool(cache_size), "cpu": statistics.median(cpu_means),
                            "wall": statistics.median(wall_means), "search": statistics.median(search_means),
                            "sql": statistics.median(sql_means)})
    search.CACHE_SIZE = CACHE_SIZE
    return out


def inprocess(engine: str, url: str, folder: Path, rounds: int) -> list[dict[str, Any]]:
    """:func:`_inprocess` in a process of its own, configured like a server."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.kb", "--inner-inprocess", str(rounds)],
        env=portal_env(url, folder, "http://127.0.0.1"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("INPROCESS ")]
    if done.returncode or not lines:
        raise RuntimeError(f"the in-process measurement failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return [dict(r, db=engine) for r in json.loads(lines[-1][len("INPROCESS "):])]


def print_inprocess(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    for name in ("db", "endpoint", "cache", "CPU µs", "wall µs", "search µs", "of it SQL µs", "rest µs"):
        table.add_column(name, justify="left" if name in ("db", "endpoint", "cache") else "right", no_wrap=True)
    for r in rows:
        table.add_row(
            r["db"], r["target"], "on" if r["cache"] else "off", f"{r['cpu']:,.0f}", f"{r['wall']:,.0f}",
            f"{r['search']:,.0f}", f"{r['sql']:,.0f}", f"{r['wall'] - r['search']:,.0f}",
        )  # fmt: skip
    console.print(table)


def print_table(rows: list[tuple], title: str) -> None:
    table = Table(title=title)
    for name in ("db", "endpoint", "conn", "req/s", "p50 ms", "p99 ms", "non-2xx"):
        table.add_column(name, justify="right" if name not in ("db", "endpoint") else "left")
    for engine, label, c, r in rows:
        table.add_row(
            engine,
            label,
            str(c),
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            str(r.non2xx + r.socket_errors),
        )
    console.print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.kb", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    p.add_argument("--articles", type=int, default=50_000)
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--connections",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[8, 64],
        help="wrk connection counts, comma-separated (default 8,64)",
    )
    p.add_argument("--duration", type=int, default=10, help="seconds of load per cell")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    p.add_argument("--generate-only", action="store_true", help="fill the databases, measure nothing")
    p.add_argument(
        "--search-cache",
        default="both",
        choices=sorted(CACHE_MODES),
        help="load the portal with its search result cache, without it, or both (default)",
    )
    p.add_argument(
        "--inprocess",
        type=int,
        default=5,
        metavar="ROUNDS",
        help="first measure each search request in-process, this many rounds of the query mix (0: skip)",
    )
    p.add_argument("--no-wrk", action="store_true", help="only the in-process measurement")
    p.add_argument("--inner-inprocess", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.inner_inprocess is not None:
        print("INPROCESS " + json.dumps(asyncio.run(_inprocess(args.inner_inprocess))), flush=True)
        os._exit(0)  # without waiting for aiosqlite's connection threads
    if not args.generate_only and not args.no_wrk:
        which_wrk()
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows: list[tuple] = []
    profiles: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-kb-") as tmp:
        work = Path(tmp)
        for engine in engines:
            folder = work / engine
            folder.mkdir()
            with database(engine, folder) as url:
                seconds = generate(engine, url, args.articles)
                console.print(f"{engine}: {args.articles:,} articles in {seconds:.1f} s")
                if not args.generate_only and args.inprocess:
                    profiles.extend(inprocess(engine, url, folder, args.inprocess))
                    print_inprocess(profiles[-len(INPROCESS_TARGETS) * 2 :], f"{engine}: one request in-process")
                if not args.generate_only and not args.no_wrk:
                    rows.extend(measure(args, engine, url, folder, work))
    if profiles:
        print_inprocess(profiles, f"knowledge-base search in-process ({args.articles:,} articles), µs per request")
    if rows:
        print_table(
            rows, f"knowledge-base search ({args.server} {args.workers}w, {args.articles:,} articles)"
        )


if __name__ == "__main__":
    main()
