"""Live staff pages: server-sent events through Litestar channels (in memory in one process;
Redis pub/sub when ``PORTAL_REDIS_URL`` is set, so every process hears every change).

- ``/staff/live/queue``: one ``ticket-changed`` event per change; the queue page reloads its
  table (an ordinary, authorised request) when it hears one.
- ``/staff/live/tickets/{ref}``: who else has this ticket open (and who is writing a reply),
  and a notice when someone else changed it.

Events carry references only, never ticket content, and only staff can subscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any

from litestar import Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_204_NO_CONTENT
from markupsafe import escape

from portal.auth import AGENT
from portal.i18n import _
from portal.settings import Settings
from portal.staff.ticket_context import ticket_or_404
from portal.tickets import signals
from portal.web import ctx

log = logging.getLogger("portal.live")

QUEUE = "tickets"
WRITING_FOR = 30.0  # seconds a "writing a reply" mark lasts without a new keystroke


def _ticket_channel(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def _presence_channel(ticket_id: int) -> str:
    return f"presence:{ticket_id}"


class TicketChannels(ChannelsPlugin):
    """The channels plugin, subscribed to ticket announcements while the app runs."""

    _remove: Any = None

    def _publish_ticket(self, payload: dict) -> None:
        self.publish(payload, [QUEUE, _ticket_channel(payload["id"])])

    async def __aenter__(self) -> ChannelsPlugin:
        entered = await super().__aenter__()
        self._remove = signals.subscribe(self._publish_ticket)
        return entered

    async def __aexit__(self, *exc: Any) -> None:
        if self._remove is not None:
            self._remove()
        await super().__aexit__(*exc)


def _prefixed_pubsub(redis: Any, prefix: str) -> Any:
    """Litestar's Redis pub/sub backend with every channel name behind ``prefix``.

    The backend uses its ``key_prefix`` for nothing in pub/sub: ``tickets`` and
    ``presence:<id>`` were the Redis channel names themselves, so two portals (or test runs)
    sharing one Redis heard each other's ticket changes and the names of each other's agents.
    """
    from litestar.channels.backends.redis import RedisChannelsPubSubBackend

    class PrefixedPubSub(RedisChannelsPubSubBackend):
        async def subscribe(self, channels: Iterable[str]) -> None:
            await super().subscribe([prefix + c for c in channels])

        async def unsubscribe(self, channels: Iterable[str]) -> None:
            await super().unsubscribe([prefix + c for c in channels])

        async def publish(self, data: bytes, channels: Iterable[str]) -> None:
            await super().publish(data, [prefix + c for c in channels])

        async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
            async for channel, data in super().stream_events():
                if channel.startswith(prefix):
                    yield channel[len(prefix):], data

    return PrefixedPubSub(redis=redis, key_prefix=prefix)


@contextlib.asynccontextmanager
async def announce_through_redis(settings: Settings, redis: Any) -> AsyncIterator[None]:
    """Publish this process's ticket changes to the live pages of every server process, for a
    process without the web app (``portal worker``). Best effort, like the servers' own: a
    change is never held up or failed by it, and Redis being away costs only the live update."""
    backend = _prefixed_pubsub(redis, f"{settings.redis_prefix}:channels:")
    # One sender, in order, as Litestar's ChannelsPlugin publishes: a task per change would
    # open a Redis connection each, and a batch of SLA alerts (200 at once) would exhaust the
    # pool and lose the updates past its limit.
    queue: asyncio.Queue[dict | None] = asyncio.Queue()

    async def sender() -> None:
        while (payload := await queue.get()) is not None:
            try:
                await backend.publish(json.dumps(payload).encode(), [QUEUE, _ticket_channel(payload["id"])])
            except Exception:  # noqa: BLE001 - see above
                log.warning("live update of %s not published", payload.get("ref"), exc_info=True)

    task = asyncio.get_running_loop().create_task(sender())
    remove = signals.subscribe(queue.put_nowait)
    try:
        yield
    finally:
        remove()
        queue.put_nowait(None)  # what is queued goes out first, for at most 5 seconds
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def channels_plugin(settings: Settings, redis: Any = None) -> TicketChannels:
    if redis is not None:
        backend: Any = _prefixed_pubsub(redis, f"{settings.redis_prefix}:channels:")
    else:
        backend = MemoryChannelsBackend()
    return TicketChannels(backend=backend, arbitrary_channels_allowed=True)


@get("/staff/live/queue", opt=AGENT, include_in_schema=False, cache=False)
async def queue_events(channels: ChannelsPlugin) -> ServerSentEvent:
    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async with channels.start_subscription([QUEUE]) as subscriber:
            yield ServerSentEventMessage(comment="listening", retry=5000)
            async for raw in subscriber.iter_events():
                yield ServerSentEventMessage(event="ticket-changed", data=json.loads(raw)["ref"])

    return ServerSentEvent(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def viewers_html(viewers: dict[str, dict], writing: dict[int, float], *, me: int) -> str:
    """"Also looking at this ticket: Elif (writing a reply), Mert": the others, each once."""
    now = time.monotonic()
    names = {v["staff"]: v["name"] for v in viewers.values() if v["staff"] != me}
    if not names:
        return '<span class="muted"></span>'
    parts = [str(escape(name)) + (f" ({escape(_('writing a reply'))})"
                                  if now - writing.get(staff_id, -1e9) < WRITING_FOR else "")
             for staff_id, name in sorted(names.items(), key=lambda item: item[1])]
    return (f'<p class="notice live-viewers" role="status">{escape(_("Also looking at this ticket:"))} '
            f'{", ".join(parts)}</p>')


@get("/staff/live/tickets/{ref:str}", opt=AGENT, include_in_schema=False, cache=False)
async def ticket_events(request: Request, ref: str, channels: ChannelsPlugin) -> ServerSentEvent:
    ticket = await ticket_or_404(ref)
    staff = ctx(request).staff
    me = {"conn": uuid.uuid4().hex, "staff": staff["id"], "name": staff["name"]}
    presence = _presence_channel(ticket["id"])

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        viewers: dict[str, dict] = {}
        writing: dict[int, float] = {}
        async with channels.start_subscription([presence, _ticket_channel(ticket["id"])]) as subscriber:
            await channels.wait_published({**me, "kind": "join"}, presence)
            try:
                yield ServerSentEventMessage(comment="listening", retry=5000)
                async for raw in subscriber.iter_events():
                    event = json.loads(raw)
                    kind = event.get("kind")
                    if kind is None:  # a change of the ticket
                        if event.get("by_staff") != staff["id"]:
                            yield ServerSentEventMessage(event="changed", data=_changed_html(ref))
                        continue
                    if kind == "writing":
                        writing[event["staff"]] = time.monotonic()
                    elif event["conn"] == me["conn"]:
                        continue
                    elif kind == "leave":
                        viewers.pop(event["conn"], None)
                    else:
                        viewers[event["conn"]] = {"staff": event["staff"], "name": event["name"]}
                        if kind == "join":  # the newcomer learns that we are here too
                            channels.publish({**me, "kind": "here"}, presence)
                    yield ServerSentEventMessage(event="viewers", data=viewers_html(viewers, writing,
                                                                                    me=staff["id"]))
            finally:
                channels.publish({**me, "kind": "leave"}, presence)

    return ServerSentEvent(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _changed_html(ref: str) -> str:
    return (f'<p class="notice notice-error" role="status">{escape(_("Someone else changed this ticket."))} '
            f'<a href="/staff/tickets/{escape(ref)}">{escape(_("Show the latest version"))}</a></p>')


@post("/staff/live/tickets/{ref:str}/writing", opt=AGENT, include_in_schema=False,
      status_code=HTTP_204_NO_CONTENT)
async def writing(request: Request, ref: str, channels: ChannelsPlugin) -> None:
    """The reply box says "I am typing" (throttled by the page) so others see it."""
    ticket = await ticket_or_404(ref)
    staff = ctx(request).staff
    channels.publish({"staff": staff["id"], "name": staff["name"], "kind": "writing"},
                     _presence_channel(ticket["id"]))


ROUTES = [queue_events, ticket_events, writing]
