"""Images attached to knowledge-base articles: what may be uploaded, where it is kept, who may
see it.

Staff upload png, jpeg, gif or webp files (at most 5 MB) to an article and paste the Markdown
snippet into its text. The checks are those of ticket attachments (:mod:`portal.tickets.files`):
the extension must be an image one *and* the first bytes must be what it promises, so a
``.png`` that is really HTML or SVG is refused whatever the browser claimed. Files live under
``var/kb_files/`` with random names (never under ``static/``); the address
``/kb/files/{key}/{name}`` is served only to visitors who may read the article (the same rule
as the article page), see :mod:`portal.kb.pages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from portal import db
from portal.kb import markdown
from portal.kb.queries import visible
from portal.kb.tables import Article, ArticleImage
from portal.tickets import files
from portal.tickets.files import AttachmentRefused, Checked, Storage, Upload

MAX_BYTES = 5 * 1024 * 1024
EXTENSIONS = ("png", "jpg", "jpeg", "gif", "webp")
ACCEPT = "image/png,image/jpeg,image/gif,image/webp"
FOLDER = "kb_files"
SERVE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
}
# Anybody may read the article: shared caches may keep it a day (unpublishing takes effect
# within that). Otherwise only the reader's own browser may keep it.
PUBLIC_CACHE = "public, max-age=86400"
PRIVATE_CACHE = "private, max-age=86400"


@dataclass(frozen=True)
class Image:
    id: int
    filename: str
    content_type: str
    size: int
    url: str
    snippet: str  # the Markdown to paste into the article


def storage(var_dir: Path) -> Storage:
    return Storage(Path(var_dir) / FOLDER)


def check(upload: Upload) -> Checked:
    """The upload as a checked image; :class:`AttachmentRefused` (``empty``, ``too_large``,
    ``type``) otherwise."""
    name = files.clean_filename(upload.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if upload.data and ext not in EXTENSIONS:
        raise AttachmentRefused("type", name)
    if len(upload.data) > MAX_BYTES:
        raise AttachmentRefused("too_large", name)
    return files.check(upload)


def url_name(filename: str) -> str:
    """The last segment of the image's address: ASCII, no spaces (``Kargo ekranı.PNG`` →
    ``kargo-ekrani.png``), so the Markdown snippet needs no escaping."""
    stem, _, ext = filename.rpartition(".")
    return f"{markdown.slugify(stem or filename, fallback='image')}.{ext.lower() or 'img'}"


def url_of(row: dict[str, Any]) -> str:
    return f"/kb/files/{row['storage_key']}/{url_name(row['filename'])}"


def _image(row: dict[str, Any]) -> Image:
    url = url_of(row)
    alt = row["filename"].rpartition(".")[0] or row["filename"]
    alt = alt.replace("[", "(").replace("]", ")").replace("\\", "")
    return Image(id=row["id"], filename=row["filename"], content_type=row["content_type"], size=row["size"],
                 url=url, snippet=f"![{alt}]({url})")


async def for_article(article_id: int) -> list[Image]:
    rows = await ArticleImage.select().where(ArticleImage.article == article_id).order_by(ArticleImage.id)
    return [_image(r) for r in rows]


async def add(article_id: int, image: Checked, *, store: Storage, uploaded_by: int | None,
              now: datetime) -> Image:
    """Store the file, then record it; if the record fails, the file goes again."""
    key = await anyio.to_thread.run_sync(store.save, image.data)
    try:
        async with db.transaction():
            rows = await ArticleImage.insert(ArticleImage(
                article=article_id, storage_key=key, filename=image.filename, content_type=image.content_type,
                size=image.size, sha256=image.sha256, uploaded_by=uploaded_by, created_at=now,
            )).returning(ArticleImage.id)
    except BaseException:
        store.delete(key)
        raise
    row = await ArticleImage.select().where(ArticleImage.id == rows[0]["id"]).first()
    return _image(row)


async def delete(article_id: int, image_id: int, *, store: Storage) -> bool:
    """Remove the image of this article (its row, then its file); False when there is none."""
    async with db.transaction():
        row = await ArticleImage.select(ArticleImage.storage_key).where(
            (ArticleImage.id == image_id) & (ArticleImage.article == article_id)).first()
        if row is None:
            return False
        await ArticleImage.delete().where(ArticleImage.id == image_id)
    await anyio.to_thread.run_sync(store.delete, row["storage_key"])
    return True


async def for_reader(key: str, name: str, *, audience: tuple[str, ...], staff: bool,
                     now: datetime) -> dict[str, Any] | None:
    """The image with this key and name if the visitor may read its article, else None.

    Staff may see every article's images (drafts included, as they see the drafts); anybody
    else only those of articles that :func:`portal.kb.queries.visible` lets them read.
    The row carries ``public``: whether anybody at all may read the article (for caching).
    """
    if len(key) > 64 or len(name) > 200:
        return None
    row = await ArticleImage.select(
        *ArticleImage.all_columns(), ArticleImage.article.visibility.as_alias("visibility"),
    ).where(ArticleImage.storage_key == key).first()
    if row is None or url_name(row["filename"]) != name:
        return None
    row["public"] = await Article.exists().where(visible(("everyone",), None, now)
                                                 & (Article.id == row["article"]))
    if staff or row["public"]:
        return row
    readable = await Article.exists().where(visible(audience, None, now) & (Article.id == row["article"]))
    return row if readable else None
