"""The request forms' demo step: the two forms of SPEC §8, embeddable from localhost, and
loading it twice changes nothing (a form staff edited is left as it is)."""

from __future__ import annotations

from portal.clock import now
from portal.forms import service
from portal.forms.demo import demo_step
from portal.forms.tables import Form


async def test_the_demo_forms_load_once_and_are_kept(client):
    await demo_step(None, None)
    contact = await service.active_form("contact")
    returns = await service.active_form("return-request")
    assert contact.name["tr"] == "İletişim" and returns.name["tr"] == "İade talebi"
    assert [f.key for f in contact.fields] == ["name", "email", "subject", "message"]
    assert any(f.type == "order_number" for f in returns.fields)
    for form in (contact, returns):
        assert {"http://localhost:*", "http://127.0.0.1:*"} <= set(form.origins)
    edited = service.FormInput(slug="contact", name_tr="Bize yazın", name_en="Write to us", fields=contact.fields,
                               origins=contact.origins)
    await service.update_form(contact.id, edited, now=now())
    await demo_step(None, None)
    assert await Form.count() == 2
    assert (await service.active_form("contact")).name["tr"] == "Bize yazın"
