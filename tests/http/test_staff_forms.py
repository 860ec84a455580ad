"""/staff/forms (the builder, for leads and admins) and /staff/reports/deflection."""

from __future__ import annotations

from portal.clock import now
from portal.forms import service
from portal.forms.tables import Form, FormVersion
from tests.conftest import staff_login
from tests.http.test_forms import make_form


def _post_data(form: service.FormView | None = None, **changes) -> dict:
    data = {"slug": "destek-formu", "name_tr": "Destek formu", "name_en": "Support form", "team": "",
            "priority": "normal", "tags": "destek, web", "ticket_type": "question", "success_tr": "Sağ olun",
            "success_en": "Thanks", "origins": "https://shop.example.com\nhttp://localhost:*",
            "per_address_limit": "10", "per_form_limit": "600", "field_count": "2",
            "fields-0-key": "email", "fields-0-type": "email", "fields-0-label_tr": "E-posta",
            "fields-0-label_en": "E-mail", "fields-0-required": "1",
            "fields-1-key": "topic", "fields-1-type": "choice", "fields-1-label_tr": "Konu",
            "fields-1-label_en": "Topic", "fields-1-options": "kargo | Kargo | Shipping\nfatura | Fatura | Invoice",
            "action": "save"}
    data.update(changes)
    return data


async def test_agents_may_not_build_forms(client, carol):
    await staff_login(client, carol)
    assert (await client.get("/staff/forms")).status_code == 403
    assert (await client.post_form("/staff/forms/new", _post_data())).status_code == 403
    assert (await client.get("/staff/reports/deflection")).status_code == 403
    assert await Form.count() == 0


async def test_anonymous_visitors_are_sent_to_log_in(client):
    response = await client.get("/staff/forms")
    assert response.status_code == 303 and "/staff/login" in response.headers["location"]


async def test_a_lead_creates_a_form_and_sees_the_snippet(client, erin):
    await staff_login(client, erin)
    page = await client.get("/staff/forms/new")
    assert page.status_code == 200 and 'name="fields-0-key"' in page.text
    response = await client.post_form("/staff/forms/new", _post_data())
    assert response.status_code == 303
    form = await service.active_form("destek-formu")
    assert form is not None and [f.key for f in form.fields] == ["email", "topic"]
    assert [o.label["en"] for o in form.field("topic").options] == ["Shipping", "Invoice"]
    assert form.origins == ["https://shop.example.com", "http://localhost:*"] and form.tags == ["destek", "web"]
    assert not form.altcha
    await client.post_form(response.headers["location"], _post_data(altcha="1"))
    assert (await service.active_form("destek-formu")).altcha
    edit = await client.get(response.headers["location"])
    assert 'data-portal-form="destek-formu"' in edit.text and "/embed.js" in edit.text
    listing = await client.get("/staff/forms")
    assert "Destek formu" in listing.text and "/f/destek-formu" in listing.text


async def test_bad_input_is_shown_inline_with_422(client, erin):
    await staff_login(client, erin)
    data = _post_data(slug="Bad Slug", origins="javascript:alert(1)", **{"fields-1-options": "",
                                                                         "fields-0-key": "token"})
    response = await client.post_form("/staff/forms/new", data)
    assert response.status_code == 422
    for error_id in ("fe-slug-error", "fe-origins-error"):
        assert error_id in response.text or "fe-fields-0-key-error" in response.text
    assert await Form.count() == 0


async def test_fields_are_added_moved_and_removed_without_javascript(client, erin):
    await staff_login(client, erin)
    added = await client.post_form("/staff/forms/new", _post_data(action="add"))
    assert added.status_code == 200 and 'name="fields-2-key"' in added.text
    moved = await client.post_form("/staff/forms/new", _post_data(action="down-0"))
    assert moved.text.index('value="topic"') < moved.text.index('value="email"')
    removed = await client.post_form("/staff/forms/new", _post_data(action="remove-1"))
    assert 'name="fields-1-key"' not in removed.text
    assert await Form.count() == 0  # nothing saved until "save"


async def test_the_preview_follows_unsaved_values(client, erin):
    await staff_login(client, erin)
    response = await client.post_form("/staff/forms/preview", _post_data(**{"fields-1-label_en": "What about?",
                                                                           "preview_lang": "en"}), htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    assert "What about?" in response.text and "Shipping" in response.text and "inert" in response.text


async def test_editing_fields_bumps_the_version_and_archiving_takes_the_form_offline(client, erin):
    await staff_login(client, erin)
    form = await make_form("destek-formu")
    response = await client.post_form(f"/staff/forms/{form.id}", _post_data())
    assert response.status_code == 303
    assert (await service.form_by_id(form.id)).version == 2
    assert await FormVersion.count().where(FormVersion.form == form.id) == 2
    same = await client.post_form(f"/staff/forms/{form.id}", _post_data(success_tr="Başka"))
    assert same.status_code == 303 and (await service.form_by_id(form.id)).version == 2
    await client.post_form(f"/staff/forms/{form.id}/archive", {})
    assert (await client.get("/f/destek-formu")).status_code == 404
    await client.post_form(f"/staff/forms/{form.id}/archive", {"restore": "1"})
    assert (await client.get("/f/destek-formu")).status_code == 200


async def test_the_deflection_report_counts_per_form(client, erin):
    from portal.forms.tables import Deflection
    from portal.kb import service as kb
    from portal.kb.service import ArticleInput

    form = await make_form()
    article_id = await kb.save_article(None, ArticleInput(lang="tr", slug="iade", title="İade nasıl yapılır",
                                                          body_markdown="İade adımları"), author=None, now=now())
    await Deflection.insert(Deflection(form=form.id, article=article_id, token_id="a", created_at=now()),
                            Deflection(form=form.id, article=article_id, token_id="b", created_at=now()))
    await staff_login(client, erin)
    page = await client.get("/staff/reports/deflection")
    assert page.status_code == 200
    assert "İletişim" in page.text and "İade nasıl yapılır" in page.text and ">2<" in page.text


async def test_the_nav_links_to_forms_for_leads_only(client, erin, carol, other_client):
    await staff_login(client, erin)
    assert 'href="/staff/forms"' in (await client.get("/staff")).text
    await staff_login(other_client, carol)
    assert 'href="/staff/forms"' not in (await other_client.get("/staff")).text
