"""/staff/orders: search, the order page with its timeline, status change, CSV upload."""

from datetime import timedelta

from portal.orders.tables import Order, OrderEvent
from tests.conftest import login, outbox_to, staff_login
from tests.order_fixtures import create_order, sample_order


async def _orders():
    base = sample_order().placed_at
    await create_order("SP-1", "ayse@example.com", name="Ayşe IŞIK", phone="+90 532 111 22 33")
    await create_order("SP-2", "mehmet@example.com", name="Mehmet Demir", phone="+905339876543",
                       status="shipped", placed_at=base - timedelta(days=1))
    await create_order("SP-3", "sarah@example.com", name="Sarah Miller", phone=None, status="delivered",
                       placed_at=base - timedelta(days=2))


async def test_list_and_search(client, carol):
    await _orders()
    await staff_login(client, carol)
    everything = await client.get("/staff/orders")
    assert everything.status_code == 200
    assert all(n in everything.text for n in ("SP-1", "SP-2", "SP-3"))

    async def found(**params):
        response = await client.get("/staff/orders", params=params)
        assert response.status_code == 200
        return {n for n in ("SP-1", "SP-2", "SP-3") if f">{n}<" in response.text}

    assert await found(q="SP-2") == {"SP-2"}
    assert await found(q="MEHMET@example.com") == {"SP-2"}
    assert await found(q="ışık") == {"SP-1"}  # Turkish-aware, case-insensitive
    assert await found(q="isik") == {"SP-1"}
    assert await found(q="5321112233") == {"SP-1"}  # phone digits whatever the spacing
    assert await found(q="miller") == {"SP-3"}
    assert await found(status="shipped") == {"SP-2"}
    assert await found(q="example.com", status="delivered") == {"SP-3"}
    assert await found(q="nobody") == set()


async def test_search_fragment_for_htmx(client, carol):
    await _orders()
    await staff_login(client, carol)
    response = await client.get("/staff/orders", params={"q": "SP-1"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section id="order-results"')


async def test_order_page_and_status_change_with_a_note(client, carol):
    await create_order("SP-1", "ayse@example.com")
    await staff_login(client, carol)
    page = await client.get("/staff/orders/SP-1")
    assert page.status_code == 200
    assert "ayse@example.com" in page.text and "Kadıköy" in page.text
    response = await client.post_form("/staff/orders/SP-1/status", {
        "status": "shipped", "carrier": "aras", "tracking_number": "AR1", "estimated_delivery": "2026-11-25",
        "note": "Kargoya verildi"})
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/orders/SP-1"
    order = await Order.select().where(Order.number == "SP-1").first()
    assert (order["status"], order["carrier"], order["tracking_number"]) == ("shipped", "aras", "AR1")
    event = await OrderEvent.select().order_by(OrderEvent.id, ascending=False).first()
    assert (event["kind"], event["note"]) == ("status", "Kargoya verildi")
    assert event["actor"] == "staff:carol@example.com"
    assert [m["template"] for m in await outbox_to("ayse@example.com")] == ["order-shipped"]
    after = await client.get("/staff/orders/SP-1")
    assert "Kargoya verildi" in after.text and "staff:carol@example.com" in after.text


async def test_status_change_with_htmx_and_nothing_changed(client, carol):
    await create_order("SP-1", "ayse@example.com")
    await staff_login(client, carol)
    events = await OrderEvent.count()
    response = await client.post_form("/staff/orders/SP-1/status", {
        "status": "received", "carrier": "yurtici", "tracking_number": "YK123456789"}, htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="order-panel"')
    assert await OrderEvent.count() == events


async def test_bad_status_is_422(client, carol):
    await create_order("SP-1", "ayse@example.com")
    await staff_login(client, carol)
    response = await client.post_form("/staff/orders/SP-1/status",
                                      {"status": "lost", "estimated_delivery": "x"})
    assert response.status_code == 422
    assert 'id="f-status-error"' in response.text
    assert 'id="f-estimated_delivery-error"' in response.text
    assert (await Order.select(Order.status).first())["status"] == "received"


async def test_unknown_order_is_404(client, carol):
    await staff_login(client, carol)
    assert (await client.get("/staff/orders/NOPE")).status_code == 404
    assert (await client.post_form("/staff/orders/NOPE/status", {"status": "shipped"})).status_code == 404


async def test_customers_and_strangers_are_kept_out(client, alice):
    await create_order("SP-1", alice.email)
    anonymous = await client.get("/staff/orders")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/login")
    await login(client, alice)
    assert (await client.get("/staff/orders/SP-1")).status_code == 303


async def test_import_is_for_leads(client, carol, erin):
    await staff_login(client, carol)
    assert (await client.get("/staff/orders/import")).status_code == 403
    await client.post_form("/staff/logout")
    await staff_login(client, erin)
    page = await client.get("/staff/orders/import")
    assert page.status_code == 200 and 'type="file"' in page.text


async def test_upload_imports_and_reports(client, erin):
    await staff_login(client, erin)
    csv = ("Sipariş No;E-posta;Ad Soyad;Tarih;Ürün;Adet;Birim Fiyat;Toplam\n"
           "SP-500;ayse@example.com;Ayşe Yılmaz;22.11.2026 10:15;Çelik Termos;2;349,90;699,80\n"
           "SP-501;bozuk-adres;Ali;22.11.2026;Kupa;1;10,00;10,00\n").encode()
    token = await client.csrf()
    response = await client.post("/staff/orders/import", data={"_csrf_token": token},
                                  files={"file": ("orders.csv", csv, "text/csv")})
    assert response.status_code == 200, response.text
    assert 'data-count="created">1<' in response.text
    assert 'data-line="3"' in response.text
    assert await Order.count() == 1
    empty = await client.post("/staff/orders/import", data={"_csrf_token": token},
                              files={"file": ("x.csv", b"", "text/csv")})
    assert empty.status_code == 422
