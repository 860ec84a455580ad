"""``create_app(settings=None) -> Litestar``: the one place the application is assembled."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, MediaType, Response, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.template.config import TemplateConfig

from portal import db
from portal.api import ApiError, api_error_handler
from portal.assets import NO_COMPRESSION, Assets
from portal.assets import ROUTES as asset_routes
from portal.auth import PUBLIC, policy_guard
from portal.mail import service as mail_service
from portal.routing import service as _routing_service  # noqa: F401 - registers ticket routing
from portal.security import Passwords
from portal.settings import ROOT, Settings
from portal.sla import service as _sla_service  # noqa: F401 - registers the SLA ticket listener
from portal.templating import page_environment
from portal.throttle import MemoryThrottle, RedisThrottle, Throttle
from portal.web import (
    PortalMiddleware,
    SessionFileStore,
    exception_handler,
    security_headers_hook,
    strict_form_body,
)

STATIC_DIR = ROOT / "static"
VENDOR = {
    "htmx": ROOT / "node_modules" / "htmx.org" / "dist",
    "htmx-sse": ROOT / "node_modules" / "htmx-ext-sse" / "dist",
    "pico": ROOT / "node_modules" / "@picocss" / "pico" / "css",
}


@dataclass
class Services:
    """Process-wide singletons, kept on ``app.state.services``."""

    settings: Settings
    passwords: Passwords
    throttle: Throttle
    session_store: Store
    redis: Any = None
    engine: Any = None
    worker_task: asyncio.Task | None = None
    worker: Any = None  # portal.jobs.worker.Worker, imported lazily
    extra: dict[str, Any] = field(default_factory=dict)


def build_services(settings: Settings) -> Services:
    passwords = Passwords(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_cost,
                          concurrency=settings.hash_concurrency, niceness=settings.hash_niceness)
    redis_client = None
    if settings.redis_url:
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        redis_client = Redis.from_url(settings.redis_url)
        store: Store = RedisStore(redis_client, namespace=f"{settings.redis_prefix}:sessions")
        throttle: Throttle = RedisThrottle(redis_client, prefix=settings.redis_prefix)
    else:
        (settings.var_dir / "sessions").mkdir(parents=True, exist_ok=True)
        store = SessionFileStore(path=settings.var_dir / "sessions")
        throttle = MemoryThrottle()
    return Services(settings=settings, passwords=passwords, throttle=throttle, session_store=store,
                    redis=redis_client)


@get("/healthz", opt=PUBLIC, include_in_schema=False, media_type=MediaType.TEXT, cache=False)
async def healthz() -> Response:
    ok = await db.ping()
    return Response("ok" if ok else "database unreachable", status_code=200 if ok else 503,
                    media_type=MediaType.TEXT, headers={"Cache-Control": "no-store"})


_GC_TUNED = False


def tune_gc() -> None:
    """Once per process, when it starts serving: everything alive then (modules, routes,
    compiled templates, catalogs) moves out of the collector's sight (``gc.freeze``), and the
    youngest generation is collected every 10,000 net allocations instead of 700.

    A page allocates thousands of short-lived objects; with the defaults a full collection came
    every few dozen requests and walked every object of the process, which was the p99 of the
    heavier pages (staff queue at 8 clients: 62 ms on SQLite and 78 ms on PostgreSQL against
    11 and 14 ms after, the same requests per second; docs/performance.md). Nothing is kept
    longer: garbage without cycles is freed at once, as before, and cycles still go on the
    next collection. Once only: a test run starts the app many times."""
    global _GC_TUNED
    if _GC_TUNED:
        return
    _GC_TUNED = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    services = build_services(settings)
    mail_service.configure(base_url=settings.base_url, mail_from=settings.mail_from)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Read from app.state, not the closure: the test suite reuses one app and swaps in
        # fresh services (a new database each test) instead of rebuilding 300 routes.
        services: Services = app.state["services"]
        settings = services.settings
        engine = db.make_engine(settings)
        db.bind(engine)
        await db.start(engine)
        services.engine = engine
        if isinstance(services.session_store, FileStore):
            with contextlib.suppress(OSError):
                await services.session_store.delete_expired()
        if settings.inprocess_worker:
            from portal.jobs.worker import Worker

            services.worker = Worker(settings)
            services.worker_task = asyncio.create_task(services.worker.run_forever())
        tune_gc()
        try:
            yield
        finally:
            if services.worker_task:
                from portal.jobs.worker import stop_task

                await stop_task(services.worker_task, worker=services.worker)
            await db.stop(engine)
            if services.redis is not None:
                await services.redis.aclose()

    from portal.customer import ROUTES as customer_routes
    from portal.forms.api import ROUTES as form_api_routes
    from portal.forms.pages import ROUTES as form_routes
    from portal.kb.pages import ROUTES as kb_routes
    from portal.orders.api import ROUTES as order_api_routes
    from portal.staff import ROUTES as staff_routes
    from portal.staff.live import channels_plugin
    from portal.surveys.pages import ROUTES as survey_routes
    from portal.tickets.api import ROUTES as ticket_api_routes

    static_routers = [
        create_static_files_router(path="/static/vendor/htmx", directories=[VENDOR["htmx"]], opt=PUBLIC,
                                   name="vendor-htmx", cache_control=_static_cache()),
        create_static_files_router(path="/static/vendor/htmx-sse", directories=[VENDOR["htmx-sse"]], opt=PUBLIC,
                                   name="vendor-htmx-sse", cache_control=_static_cache()),
        create_static_files_router(path="/static/vendor/pico", directories=[VENDOR["pico"]], opt=PUBLIC,
                                   name="vendor-pico", cache_control=_static_cache()),
        create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC, name="static",
                                   cache_control=_static_cache()),
    ]

    env = page_environment(base_url=settings.base_url, static_url=lambda name: f"/static/{name}")
    assets = Assets(STATIC_DIR, VENDOR, watch=settings.debug)
    env.globals["asset"] = assets.url  # fingerprinted, immutable URLs (portal/assets.py)
    if not assets.watch:  # a file's URL is then fixed for the process: written into the compiled pages
        env.constant_calls["asset"] = assets.url
    app = Litestar(
        route_handlers=[healthz, *customer_routes, *staff_routes, *order_api_routes, *kb_routes,
                        *ticket_api_routes, *survey_routes, *form_routes, *form_api_routes, *asset_routes,
                        *static_routers],
        guards=[policy_guard],
        middleware=[DefineMiddleware(PortalMiddleware)],
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_name="portal_csrf", cookie_secure=settings.is_https,
                               cookie_httponly=True, cookie_samesite="lax", header_name="x-csrftoken"),
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(env)),
        plugins=[HTMXPlugin(), channels_plugin(settings, services.redis)],
        request_class=HTMXRequest,
        exception_handlers={ApiError: api_error_handler, HTTPException: exception_handler,
                            Exception: exception_handler},
        before_send=[security_headers_hook(settings.is_https)],
        before_request=strict_form_body,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=5,
                                             exclude_opt_key=NO_COMPRESSION),
        openapi_config=OpenAPIConfig(title="portal API", version="1", path="/schema",
                                     render_plugins=[JsonRenderPlugin()]),  # no CDN-loading UI
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        debug=settings.debug,
    )
    app.state["services"] = services
    app.state["settings"] = settings
    app.state["assets"] = assets
    return app


def _static_cache():
    from litestar.datastructures import CacheControlHeader

    return CacheControlHeader(public=True, max_age=3600)
