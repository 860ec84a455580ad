"""Fingerprinted static assets: ``{{ asset("app.css") }}`` in a template gives
``/assets/app.<hash>.css``, a URL whose content never changes, served with
``Cache-Control: public, max-age=31536000, immutable`` and gzipped once in memory.

A browser then fetches each stylesheet and script once per version instead of revalidating it
on every page; a deploy that changes a file changes its URL. The plain ``/static/...`` URLs
stay (short cache) for what cannot carry a hash, such as the embed script other sites load.

Names are relative to ``static/``; ``vendor/<package>/<file>`` reaches the third-party assets
installed by ``npm ci`` (see ``VENDOR`` in ``portal/app.py``). The hash of a file is computed
on first use and kept; with ``watch`` (``PORTAL_DEBUG``) it is recomputed when the file's
modification time changes, so an edit during development gives a new URL at once.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from portal.auth import PUBLIC

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
# Compressing is done by the app's CompressionMiddleware for every other response; this route
# answers with gzip bytes made once per file, so the middleware must leave it alone.
NO_COMPRESSION = "skip_compression"
_FINGERPRINTED = re.compile(rf"^(?P<head>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$")
_COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt", ".map"}


@dataclass
class _Entry:
    mtime_ns: int
    digest: str
    body: bytes
    gzipped: bytes | None


class Assets:
    """The files under ``static`` and the vendor folders, by fingerprinted name."""

    def __init__(self, static_dir: Path, vendor: dict[str, Path], *, watch: bool = False) -> None:
        self.roots: list[tuple[str, Path]] = [(f"vendor/{k}/", v) for k, v in vendor.items()]
        self.roots.append(("", static_dir))
        self.watch = watch
        self._entries: dict[str, _Entry] = {}
        self._urls: dict[str, str] = {}  # name -> URL, for templates (several per page)

    def path_of(self, name: str) -> Path | None:
        """The file behind ``name``, never outside its root (``..`` and absolute names refused)."""
        if not name or name.startswith("/") or "\\" in name or "\x00" in name:
            return None
        for prefix, root in self.roots:
            if name.startswith(prefix):
                rest = name[len(prefix):]
                parts = rest.split("/")
                if not rest or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
                    return None
                path = root.joinpath(*parts)
                return path if path.is_file() else None
        return None

    def _entry(self, name: str) -> _Entry | None:
        entry = self._entries.get(name)
        if entry is not None and not self.watch:
            return entry
        path = self.path_of(name)
        if path is None:
            return None
        mtime = os.stat(path).st_mtime_ns
        entry = self._entries.get(name)
        if entry is None or entry.mtime_ns != mtime:
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
            gzipped = None
            if path.suffix in _COMPRESSIBLE and len(body) >= 1024:
                gzipped = gzip.compress(body, compresslevel=9, mtime=0)
            entry = self._entries[name] = _Entry(mtime, digest, body, gzipped)
        return entry

    def url(self, name: str) -> str:
        """``/assets/<name with its hash before the extension>``; an unknown name is an error
        at render time (a typo must not ship as a silently broken link)."""
        if not self.watch and (url := self._urls.get(name)) is not None:
            return url
        entry = self._entry(name)
        if entry is None:
            raise LookupError(f"no static asset {name!r}")
        head, dot, suffix = name.rpartition(".")
        if not dot or "/" in suffix:
            url = f"/assets/{name}.{entry.digest}"
        else:
            url = f"/assets/{head}.{entry.digest}.{suffix}"
        self._urls[name] = url
        return url

    def lookup(self, fingerprinted: str) -> tuple[str, _Entry] | None:
        """The asset a fingerprinted name stands for, if its hash is the current one."""
        match = _FINGERPRINTED.match(fingerprinted)
        if not match:
            return None
        name = match["head"] + match["suffix"]
        entry = self._entry(name)
        if entry is None or entry.digest != match["digest"]:
            return None
        return name, entry


@get("/assets/{name:path}", opt={**PUBLIC, NO_COMPRESSION: True}, include_in_schema=False, cache=False)
async def asset(request: Request, name: str) -> Response:
    assets: Assets = request.app.state["assets"]
    found = assets.lookup(name.lstrip("/"))
    if found is None:  # an old or made-up hash: never serve other content under this URL
        raise NotFoundException()
    real_name, entry = found
    media_type = mimetypes.guess_type(real_name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type == "application/javascript":
        media_type += "; charset=utf-8"
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    body = entry.body
    if entry.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = entry.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=media_type, headers=headers)


ROUTES = [asset]
