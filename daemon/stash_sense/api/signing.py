"""Short-lived signed URLs for images, so an `<img>` never carries the API token."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

# Long enough for a page to load its images; short enough that a leaked URL soon dies.
DEFAULT_TTL_SECONDS = 3600
_CONTEXT = b"stash-sense signed image urls v1"


class UrlSigner:
    """Sign and check `?exp=<unix>&sig=<hmac>` on paths with a key derived from the token."""

    def __init__(self, token: str, *, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        """Derive the signing key; the signature never reveals the token itself."""
        self._key = hmac.new(token.encode(), _CONTEXT, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def _signature(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def sign(self, path: str, *, now: float | None = None) -> str:
        """Return `path` with an expiry and signature appended as query parameters."""
        # Round the expiry up to a minute so URLs stay stable across quick refetches
        # (the browser then serves repeated images from its cache).
        moment = time.time() if now is None else now
        expires = (int(moment + self.ttl_seconds) // 60 + 1) * 60
        query = urlencode({"exp": expires, "sig": self._signature(path, expires)})
        return f"{path}?{query}"

    def valid(self, path: str, expires: str, signature: str, *, now: float | None = None) -> bool:
        """Return whether a signature matches `path` and has not expired."""
        if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
            return False
        moment = time.time() if now is None else now
        if int(expires) < moment:
            return False
        expected = self._signature(path, int(expires))
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
