"""Fingerprinted static assets: pages link ``/assets/<name>.<hash>.<ext>``, served immutable and
gzipped; a wrong hash or a path outside the asset folders is 404; pages are compressed."""

from __future__ import annotations

import gzip
import hashlib
import re

from portal.app import STATIC_DIR, VENDOR
from portal.assets import Assets


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)


async def test_pages_link_fingerprinted_assets_served_immutable(client) -> None:
    page = await client.get("/login")
    links = _links(page.text)
    assert len(links) >= 3, links
    assert not re.search(r'href="/static/(app\.css|vendor/pico/pico\.min\.css)"', page.text)
    for link in links:
        response = await client.get(link, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, link
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "set-cookie" not in response.headers  # no session work for assets
        digest = re.search(r"\.([0-9a-f]{12})\.[a-z]+$", link).group(1)
        assert hashlib.sha256(response.content).hexdigest()[:12] == digest
    css = next(link for link in links if "app." in link)
    assert (await client.get(css)).headers["content-type"].startswith("text/css")


async def test_assets_are_gzipped_when_the_client_accepts_it(client) -> None:
    link = next(x for x in _links((await client.get("/login")).text) if "pico" in x)
    plain = await client.get(link, headers={"Accept-Encoding": "identity"})
    # httpx decodes gzip itself; read the raw bytes to check the encoding really was gzip.
    async with client.stream("GET", link, headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
        assert zipped.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in zipped.headers["vary"].lower()
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content) / 2


async def test_wrong_hash_and_escapes_are_404(client) -> None:
    link = next(x for x in _links((await client.get("/login")).text) if "app." in x)
    stale = re.sub(r"\.[0-9a-f]{12}\.", ".0123456789ab.", link)
    assert (await client.get(stale)).status_code == 404
    assert (await client.get("/assets/app.css")).status_code == 404  # no hash, no immutable answer
    for path in ("/assets/../portal/settings.0123456789ab.py",
                 "/assets/vendor/pico/../../../pyproject.0123456789ab.toml",
                 "/assets/%2e%2e/secret.0123456789ab.txt", "/assets/.hidden.0123456789ab.css"):
        assert (await client.get(path)).status_code == 404, path


def test_asset_urls_change_with_the_content(tmp_path) -> None:
    (tmp_path / "x.css").write_text("a{color:red}")
    assets = Assets(tmp_path, VENDOR, watch=True)
    first = assets.url("x.css")
    assert assets.lookup(first.removeprefix("/assets/")) is not None
    (tmp_path / "x.css").write_text("a{color:blue}")
    import os

    os.utime(tmp_path / "x.css", ns=(1, 10**18))  # a new mtime, whatever the clock's resolution
    second = assets.url("x.css")
    assert second != first
    assert assets.lookup(first.removeprefix("/assets/")) is None
    assert Assets(STATIC_DIR, VENDOR).path_of("../pyproject.toml") is None


async def test_html_pages_are_compressed(client) -> None:
    async with client.stream("GET", "/login", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers.get("content-encoding") == "gzip"
