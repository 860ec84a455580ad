"""/orders and /orders/{number}: a customer's own orders; anyone else gets 404."""

from datetime import timedelta

from portal.accounts.tables import Customer
from portal.clock import now
from portal.orders import service
from tests.conftest import PASSWORD, link_in, login, outbox_to
from tests.order_fixtures import create_order, sample_order


async def test_list_shows_my_orders_newest_first(client, alice, bob):
    await create_order("SP-1", alice.email, placed_at=sample_order().placed_at - timedelta(days=2))
    await create_order("SP-2", alice.email)
    await create_order("SP-3", bob.email)
    await login(client, alice)
    response = await client.get("/orders")
    assert response.status_code == 200
    text = response.text
    assert text.index("SP-2") < text.index("SP-1")
    assert "SP-3" not in text
    assert response.headers["cache-control"] == "private, no-store"


async def test_list_pages_with_a_cursor(client, alice):
    base = sample_order().placed_at
    for i in range(23):
        await create_order(f"SP-{100 + i}", alice.email, placed_at=base - timedelta(hours=i))
    await login(client, alice)
    first = await client.get("/orders")
    assert "SP-100" in first.text and "SP-119" in first.text and "SP-120" not in first.text
    assert "/orders?cursor=" in first.text
    cursor = first.text.split("/orders?cursor=")[1].split('"')[0]
    more = await client.get(f"/orders?cursor={cursor}", headers={"HX-Request": "true"})
    assert more.status_code == 200
    assert "<html" not in more.text  # the rows block only
    assert "SP-120" in more.text and "SP-122" in more.text and "SP-119" not in more.text
    assert "cursor=" not in more.text  # no further page


async def test_order_page_shows_timeline_items_money_and_tracking_link(client, alice):
    await create_order("SP-10042", alice.email)
    await service.change_order("SP-10042", service.Change(status="shipped", note="Depodan çıktı"),
                               actor="test", now=now())
    await login(client, alice)
    response = await client.get("/orders/SP-10042")
    assert response.status_code == 200
    text = response.text
    assert "Çelik Termos 1L" in text
    assert "₺1.934,36" in text  # Babel, Turkish: the customer's language
    assert "₺1.234,56" in text
    assert 'href="https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=YK123456789"' in text
    assert 'rel="noopener noreferrer"' in text and 'target="_blank"' in text
    assert "Depodan çıktı" in text
    assert 'aria-current="step"' in text
    assert "Kadıköy" in text  # the owner sees the address
    assert '<time datetime="' in text


async def test_times_are_shown_in_istanbul_in_the_customers_language(client, alice):
    await create_order("SP-10042", alice.email)  # placed 10:15 Istanbul time
    await Customer.update({Customer.locale: "en"}).where(Customer.id == alice.id)
    await login(client, alice)
    response = await client.get("/orders/SP-10042")
    assert '<html lang="en">' in response.text
    assert "22 November 2026" in response.text and "10:15" in response.text
    assert "1,934.36" in response.text  # en_GB: TRY1,934.36


async def test_htmx_refresh_returns_the_status_block(client, alice):
    await create_order("SP-10042", alice.email)
    await login(client, alice)
    response = await client.get("/orders/SP-10042", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="order-status"')
    assert "Çelik Termos" not in response.text


async def test_someone_elses_order_is_404_on_page_and_fragment(client, alice, bob):
    await create_order("SP-10042", alice.email)
    await login(client, bob)
    assert (await client.get("/orders/SP-10042")).status_code == 404
    fragment = await client.get("/orders/SP-10042", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert "SP-10042" not in (await client.get("/orders")).text
    assert (await client.get("/orders/NOPE")).status_code == 404


async def test_logged_out_visitors_are_sent_to_log_in(client, alice):
    await create_order("SP-10042", alice.email)
    response = await client.get("/orders/SP-10042")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_an_unverified_signup_with_the_orders_address_sees_nothing(client, other_client):
    # The order arrives first; someone then signs up with that address but never confirms it.
    await create_order("SP-10042", "mallory-target@example.com")
    response = await client.post_form("/signup", {"name": "Mallory", "email": "mallory-target@example.com",
                                                  "password": PASSWORD})
    assert response.status_code in (200, 303)
    login = await client.post_form("/login", {"email": "mallory-target@example.com", "password": PASSWORD})
    assert login.status_code == 403  # "confirm your address first"
    assert (await client.get("/orders/SP-10042")).status_code == 303  # to /login: no session
    assert (await client.get("/orders")).status_code == 303  # not logged in at all
    row = await Customer.select(Customer.email_verified_at).where(
        Customer.email_key == "mallory-target@example.com").first()
    assert row["email_verified_at"] is None


async def test_the_owner_sees_it_after_confirming_the_address(client):
    await create_order("SP-10042", "new-buyer@example.com")
    await client.post_form("/signup", {"name": "Buyer", "email": "new-buyer@example.com",
                                       "password": PASSWORD})
    mail = [m for m in await outbox_to("new-buyer@example.com") if m["template"] == "verify-email"][0]
    confirm = await client.post_form(link_in(mail["body_text"], "/verify/"))
    assert confirm.status_code == 303
    await client.post_form("/login", {"email": "new-buyer@example.com", "password": PASSWORD})
    assert (await client.get("/orders/SP-10042")).status_code == 200


async def test_an_address_in_another_case_is_the_same_account(client, alice):
    # An order placed with a differently cased address belongs to the same verified account.
    await create_order("SP-77", "ALICE@Example.com")
    await login(client, alice)
    assert (await client.get("/orders/SP-77")).status_code == 200
