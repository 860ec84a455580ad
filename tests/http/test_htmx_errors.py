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
