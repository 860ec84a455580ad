"""Attachments: what may be uploaded, and where it is kept.

A file is accepted when its extension is on the allowlist *and* its first bytes are what that
extension promises (a ``.png`` that is really HTML is refused). Files live under
``var/attachments/`` (never under ``static/``) with random names; the original name is only
metadata. Serving is the HTTP layer's job: always as a download, with ``nosniff`` and a
sandboxing CSP, and only to people who may see the ticket.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5


def _png(d: bytes) -> bool:
    return d.startswith(b"\x89PNG\r\n\x1a\n")


def _jpeg(d: bytes) -> bool:
    return d.startswith(b"\xff\xd8\xff")


def _gif(d: bytes) -> bool:
    return d[:6] in (b"GIF87a", b"GIF89a")


def _webp(d: bytes) -> bool:
    return d[:4] == b"RIFF" and d[8:12] == b"WEBP"


def _pdf(d: bytes) -> bool:
    return d.startswith(b"%PDF-")


def _zip(d: bytes) -> bool:  # Office Open XML and OpenDocument files are zip archives
    return d.startswith(b"PK\x03\x04")


def _text(d: bytes) -> bool:
    """Plain text: no NUL bytes and nothing a browser would take for markup."""
    head = d[:1024].lstrip().lower()
    return b"\x00" not in d and not head.startswith((b"<", b"\xef\xbb\xbf<"))


# extension -> (content type sent on download, check of the first bytes)
ALLOWED: dict[str, tuple[str, object]] = {
    "png": ("image/png", _png),
    "jpg": ("image/jpeg", _jpeg),
    "jpeg": ("image/jpeg", _jpeg),
    "gif": ("image/gif", _gif),
    "webp": ("image/webp", _webp),
    "pdf": ("application/pdf", _pdf),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _zip),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _zip),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _zip),
    "odt": ("application/vnd.oasis.opendocument.text", _zip),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _zip),
    "txt": ("text/plain", _text),
    "csv": ("text/csv", _text),
    "log": ("text/plain", _text),
}


class AttachmentRefused(Exception):
    """``code``: too_large, empty, type, too_many; ``filename`` names the file."""

    def __init__(self, code: str, filename: str = "") -> None:
        super().__init__(f"{code}: {filename}")
        self.code = code
        self.filename = filename


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|;]+")


def clean_filename(raw: str) -> str:
    """The last path component, without control or shell-special characters, at most 150."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:150]
    return name or "file"


def check(upload: Upload) -> Checked:
    name = clean_filename(upload.filename)
    if not upload.data:
        raise AttachmentRefused("empty", name)
    if len(upload.data) > MAX_BYTES:
        raise AttachmentRefused("too_large", name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = ALLOWED.get(ext)
    if allowed is None or not allowed[1](upload.data):  # type: ignore[operator]
        raise AttachmentRefused("type", name)
    return Checked(filename=name, content_type=allowed[0], data=upload.data)


def check_all(uploads: list[Upload]) -> list[Checked]:
    uploads = [u for u in uploads if u.filename or u.data]  # an empty file input sends nothing useful
    if len(uploads) > MAX_FILES:
        raise AttachmentRefused("too_many")
    return [check(u) for u in uploads]


def content_disposition(filename: str) -> str:
    """Always a download; the real name UTF-8 encoded (RFC 6266), an ASCII one as fallback."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "file"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


class Storage:
    """Files under one folder, by random key; nothing here trusts a name from outside."""

    _KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not self._KEY.match(key):
            raise ValueError("bad storage key")
        return self.root / key

    def save(self, data: bytes) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(24)
        tmp = self.root / f".{key}.part"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path(key))
        return key

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except (FileNotFoundError, ValueError):
            pass

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()
