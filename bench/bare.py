"""The framework floor: a bare Litestar app with one plaintext handler and nothing else
(no middleware, no templates, no database). The portal's figures are read as a share of it."""

from litestar import Litestar, MediaType, get


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "hello"


def create_app() -> Litestar:
    return Litestar(route_handlers=[plaintext])
