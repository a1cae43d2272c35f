"""Logging set-up that keeps secrets out of every line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# Stash puts the API key into stream and screenshot URLs as ?apikey=…
_APIKEY_PARAM = re.compile(r"(?i)(apikey=)[^&\s\"']+")
_MASK = "***"


class RedactingFilter(logging.Filter):
    """Replace known secrets and `apikey=` URL parameters in log records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked."""
        message = record.getMessage()
        clean = redact(message, self._secrets)
        if record.exc_info and record.exc_info[1] is not None:
            # Exceptions may quote URLs; render them now so they are scrubbed too.
            text = logging.Formatter().formatException(record.exc_info)
            clean = f"{clean}\n{redact(text, self._secrets)}"
            record.exc_info = None
            record.exc_text = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask `apikey=` parameters and the given secret strings in `text`."""
    text = _APIKEY_PARAM.sub(rf"\g<1>{_MASK}", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    return text


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`, with every handler's records redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log repeats request URLs; keep it at warning unless debugging.
    logging.getLogger("aiohttp.access").setLevel(
        logging.DEBUG if level == "DEBUG" else logging.WARNING
    )
    # gql logs whole requests and responses at INFO, which may include stream URLs.
    logging.getLogger("gql").setLevel(logging.WARNING)
