"""API authentication: the bearer token and the middleware that checks it."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from stash_sense.api.errors import ApiError
from stash_sense.api.signing import UrlSigner

_LOGGER = logging.getLogger(__name__)
TOKEN_FILE = "api_token"  # noqa: S105 - a file name, not a secret


def ensure_token(configured: str, data_dir: Path) -> str:
    """Return the configured token, else the stored one, else a new stored one."""
    if configured:
        return configured
    path = data_dir / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # Create with 0600 from the start so the token is never world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    _LOGGER.warning(
        "Generated an API token; it is stored in %s (enter it in the plugin settings)",
        path.resolve(),
    )
    return token


def auth_middleware(
    token: str,
    public_paths: frozenset[str],
    *,
    public_prefixes: tuple[str, ...] = (),
    signer: UrlSigner | None = None,
    signed_prefixes: tuple[str, ...] = (),
) -> Middleware:
    """Require `Authorization: Bearer <token>` on every route but the public ones.

    Under `signed_prefixes` a valid, unexpired `?exp=&sig=` pair stands in for the token
    on reads (GET, HEAD) only: a signature is for an `<img>`, never for a change.
    """
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Preflights carry no credentials by design; the CORS middleware answers them.
        path = request.path
        if request.method == "OPTIONS" or path in public_paths or path.startswith(public_prefixes):
            return await handler(request)
        signed = path.startswith(signed_prefixes) and "sig" in request.query
        if signer is not None and signed and request.method in ("GET", "HEAD"):
            if not signer.valid(path, request.query.get("exp", ""), request.query["sig"]):
                raise ApiError(401, "unauthorized", "expired or wrong image signature")
            return await handler(request)
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise ApiError(401, "unauthorized", "missing or wrong bearer token")
        return await handler(request)

    return middleware
