"""Security headers on every answer: the pages load scripts and styles from /app/static only (no inline
script may run), may not be framed, are not sniffed as another type, and send no referrer to tile servers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response

from api.settings import Settings


def content_security_policy(settings: Settings) -> str:
    """Scripts and styles from this origin only; images also from the configured tile server."""
    # A tile template's {s} is a subdomain (a., b., c.): allow them all.
    tiles = urlsplit(settings.tile_url.replace("{s}", "*"))
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.scheme and tiles.netloc else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'self'; "
        f"form-action 'self'; frame-ancestors 'none'; img-src 'self' data: blob:{tile_origin}"
    )


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    policy = content_security_policy(settings)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # The interactive API docs (/docs) load their scripts inline and from a CDN: the policy is for /app.
        if request.url.path.startswith("/app"):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
