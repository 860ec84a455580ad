"""htmx requests get errors as a fragment swapped into #main, never a silent failure."""


async def test_htmx_error_is_a_fragment_retargeted_to_main(client):
    response = await client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#main"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in response.text
    assert 'role="alert"' in response.text


async def test_plain_error_is_a_whole_page(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "<html" in response.text
    assert "hx-retarget" not in response.headers


async def test_htmx_request_that_is_throttled_gets_a_429_fragment_with_retry_after(client, alice):
    for _ in range(5):
        wrong = await client.post_form("/login", {"email": alice.email, "password": "wrong password"}, htmx=True)
        assert wrong.status_code == 422
    locked = await client.post_form("/login", {"email": alice.email, "password": alice.password}, htmx=True)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.headers["hx-retarget"] == "#main"
    assert "<html" not in locked.text
    assert 'role="alert"' in locked.text
    assert "portal_session" not in locked.headers.get("set-cookie", "")
