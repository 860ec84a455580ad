"""Images in knowledge-base articles: staff upload them (sniffed, size-limited, stored under
var/ by random key), paste the Markdown, delete them; readers get them only when they may read
the article, with headers that keep an image an image."""

from __future__ import annotations

import re

from portal.clock import now
from portal.kb import images, service
from portal.kb.markdown import render
from portal.kb.service import ArticleInput
from portal.kb.tables import Article, ArticleImage
from tests.conftest import login, staff_login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 32


async def _article(slug: str, *, visibility: str = "everyone", status: str = "draft", body: str = "Metin.") -> int:
    article_id = await service.save_article(
        None, ArticleInput(lang="tr", title=slug.title(), slug=slug, body_markdown=body, visibility=visibility),
        author=None, now=now())
    if status != "draft":
        await service.set_status(article_id, status, now=now())
    return article_id


async def _upload(client, article_id: int, filename: str, data: bytes, content_type: str = "image/png"):
    return await client.post(f"/staff/kb/{article_id}/images", data={"_csrf_token": await client.csrf()},
                             files={"image": (filename, data, content_type)})


async def _image(article_id: int) -> dict:
    return await ArticleImage.select().where(ArticleImage.article == article_id).first()


def _stored(settings, key: str):
    return images.storage(settings.var_dir).path(key)


async def test_agent_uploads_a_png_to_a_draft_and_sees_the_snippet(client, carol, settings):
    article_id = await _article("kargo")
    await staff_login(client, carol)
    response = await _upload(client, article_id, "Kargo ekranı.PNG", PNG, "text/html")  # the client's type is ignored
    assert response.status_code == 303 and response.headers["location"] == f"/staff/kb/{article_id}#kb-images"
    row = await _image(article_id)
    assert row["filename"] == "Kargo ekranı.PNG" and row["content_type"] == "image/png" and row["size"] == len(PNG)
    assert row["uploaded_by"] == carol.id
    path = _stored(settings, row["storage_key"])
    assert path.read_bytes() == PNG and "static" not in path.parts and row["storage_key"] not in row["filename"]
    url = f"/kb/files/{row['storage_key']}/kargo-ekrani.png"
    page = await client.get(f"/staff/kb/{article_id}")
    assert page.status_code == 200 and f"![Kargo ekranı]({url})" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    # Staff see the image of a draft (to preview it).
    image = await client.get(url)
    assert image.status_code == 200 and image.content == PNG


async def test_disguised_empty_and_oversized_files_are_refused(client, carol, settings):
    article_id = await _article("kargo")
    await staff_login(client, carol)
    for name, data in [("resim.png", b"<html><script>alert(1)</script></html>"),
                       ("resim.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
                       ("resim.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
                       ("belge.pdf", b"%PDF-1.4 x"),
                       ("resim.gif", PNG)]:
        response = await _upload(client, article_id, name, data)
        assert response.status_code == 422, name
        assert 'id="f-image-error"' in response.text and name in response.text
    too_big = await _upload(client, article_id, "buyuk.png", PNG + b"\x00" * images.MAX_BYTES)
    assert too_big.status_code == 422 and "5 MB" in too_big.text
    empty = await client.post(f"/staff/kb/{article_id}/images", data={"_csrf_token": await client.csrf()},
                              files={"image": ("bos.png", b"", "image/png")})
    assert empty.status_code == 422
    assert await ArticleImage.count() == 0
    folder = settings.var_dir / images.FOLDER
    assert not folder.exists() or not any(folder.iterdir())


async def test_only_a_lead_changes_the_images_of_a_live_article(client, other_client, carol, erin):
    article_id = await _article("canli", status="published")
    await staff_login(client, carol)
    assert (await _upload(client, article_id, "a.png", PNG)).status_code == 403
    await staff_login(other_client, erin)
    assert (await _upload(other_client, article_id, "a.png", PNG)).status_code == 303
    row = await _image(article_id)
    delete = f"/staff/kb/{article_id}/images/{row['id']}/delete"
    assert (await client.post_form(delete)).status_code == 403
    assert await ArticleImage.count() == 1
    # An unknown article: not found.
    assert (await _upload(other_client, 999999, "a.png", PNG)).status_code == 404


async def test_customers_and_guests_cannot_upload(client, alice):
    article_id = await _article("kargo")
    assert (await _upload(client, article_id, "a.png", PNG)).status_code in (303, 401)
    await login(client, alice)
    assert (await _upload(client, article_id, "a.png", PNG)).status_code in (303, 401, 403)
    assert await ArticleImage.count() == 0


async def test_public_image_is_served_with_safe_headers_and_shown_in_the_article(client, other_client, erin):
    article_id = await _article("kargo", status="published")
    await staff_login(client, erin)
    assert (await _upload(client, article_id, "Ekran.gif", GIF)).status_code == 303
    row = await _image(article_id)
    url = f"/kb/files/{row['storage_key']}/ekran.gif"
    saved = await client.post_form(f"/staff/kb/{article_id}", {
        "title": "Kargo", "slug": "kargo", "lang": "tr", "visibility": "everyone", "category": "",
        "summary": "", "related": "", "tags": "",
        "body_markdown": f"Adım 1:\n\n![Ekran]({url})\n\n<img src=\"javascript:alert(1)\">"})
    assert saved.status_code == 303, saved.text
    # A guest reads the article and its image.
    page = await other_client.get("/kb/articles/kargo")
    body = page.text[page.text.index('class="kb-body"'):]
    assert f'<img src="{url}" alt="Ekran">' in body and "javascript" not in body
    response = await other_client.get(url)
    assert response.status_code == 200 and response.content == GIF
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert response.headers["x-frame-options"] == "DENY"  # its own CSP names no frame-ancestors
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert response.headers["content-disposition"].startswith("inline;")
    # The name is part of the address; unknown keys and names are 404s.
    assert (await other_client.get(f"/kb/files/{row['storage_key']}/other.gif")).status_code == 404
    assert (await other_client.get(f"/kb/files/{'x' * 32}/ekran.gif")).status_code == 404
    assert (await other_client.get("/kb/files/../ekran.gif")).status_code == 404


async def test_images_of_drafts_and_restricted_articles_stay_hidden(client, other_client, alice, erin):
    await staff_login(client, erin)
    urls = {}
    for slug, visibility, status in [("taslak", "everyone", "draft"), ("ozel", "staff", "published"),
                                     ("musteri", "customers", "published"), ("arsiv", "everyone", "archived")]:
        article_id = await _article(slug, visibility=visibility, status=status)
        assert (await _upload(client, article_id, "a.png", PNG)).status_code == 303
        urls[slug] = f"/kb/files/{(await _image(article_id))['storage_key']}/a.png"
    for url in urls.values():  # staff see them all
        assert (await client.get(url)).status_code == 200
    for url in urls.values():  # a guest none
        assert (await other_client.get(url)).status_code == 404
    await login(other_client, alice)  # a customer: only the customers' article
    for slug, url in urls.items():
        response = await other_client.get(url)
        assert response.status_code == (200 if slug == "musteri" else 404), slug
    assert (await other_client.get(urls["musteri"])).headers["cache-control"].startswith("private,")


async def test_deleting_an_image_removes_its_file(client, carol, settings):
    article_id = await _article("kargo")
    other_id = await _article("baska")
    await staff_login(client, carol)
    assert (await _upload(client, article_id, "a.png", PNG)).status_code == 303
    row = await _image(article_id)
    path = _stored(settings, row["storage_key"])
    assert path.exists()
    # Through another article's address: not found, nothing removed.
    assert (await client.post_form(f"/staff/kb/{other_id}/images/{row['id']}/delete")).status_code == 404
    assert path.exists()
    response = await client.post_form(f"/staff/kb/{article_id}/images/{row['id']}/delete")
    assert response.status_code == 303
    assert await ArticleImage.count() == 0 and not path.exists()
    assert (await client.get(f"/kb/files/{row['storage_key']}/a.png")).status_code == 404
    assert (await client.post_form(f"/staff/kb/{article_id}/images/{row['id']}/delete")).status_code == 404


async def test_deleting_an_article_removes_its_images(client, carol, settings):
    article_id = await _article("kargo")
    await staff_login(client, carol)
    assert (await _upload(client, article_id, "a.png", PNG)).status_code == 303
    path = _stored(settings, (await _image(article_id))["storage_key"])
    await service.delete_article(article_id, storage=images.storage(settings.var_dir))
    assert not await Article.exists().where(Article.id == article_id)
    assert await ArticleImage.count() == 0 and not path.exists()


def test_sanitiser_keeps_only_our_own_image_addresses():
    key = "A" * 32
    assert render(f"![a](/kb/files/{key}/a.png)").html.count(f'src="/kb/files/{key}/a.png"') == 1
    for source in ["![a](javascript:alert(1))", '<img src="javascript:alert(1)">', '<img src="JaVaScRiPt:x">',
                   '<img src="data:image/svg+xml;base64,PHN2Zz4=">', "![a](data:image/png;base64,AAAA)",
                   '<img src="https://tracker.example/p.gif">', '<img src="//tracker.example/p.gif">',
                   '<img src="/logout">', f'<img src="/kb/files/{key}/.hidden">']:
        html = render(source).html
        assert not re.search(r"src\s*=", html), (source, html)


async def test_an_upload_without_the_csrf_token_is_refused(client, carol):
    article_id = await _article("kargo")
    await staff_login(client, carol)
    response = await client.post(f"/staff/kb/{article_id}/images", files={"image": ("a.png", PNG, "image/png")})
    assert response.status_code == 403
    assert await ArticleImage.count() == 0
