from tests.conftest import login


async def test_home_renders_in_turkish_by_default(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="tr">' in response.text
    assert response.headers["content-language"] == "tr"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


async def test_login_then_account(client, alice):
    await login(client, alice)
    response = await client.get("/account")
    assert response.status_code == 200
    assert alice.email in response.text


async def test_openapi_json_is_served_without_cdn_viewers(client):
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "portal API"
    for viewer in ("/schema/swagger", "/schema/redoc", "/schema/rapidoc", "/schema/elements"):
        assert (await client.get(viewer)).status_code == 404, viewer
