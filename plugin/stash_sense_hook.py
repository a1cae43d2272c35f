"""Forward one Stash plugin hook event to the Stash Sense daemon and exit 0."""

# Stash runs this file once per hook event, synchronously, as a fresh process: a library scan
# waits for it. Hence: standard library only, and no module that is slow to import (urllib,
# http.client, typing and dataclasses each add milliseconds per event; see `python -X importtime`).
# HTTP is spoken over a plain socket so that one deadline bounds DNS, connect, send and read.
# Stash uses whatever Python its python_path names, so this file also runs on Python 3.8+:
# annotations stay unevaluated and nothing newer is used at run time.

from __future__ import annotations

import json
import os
import socket
import sys
import time

PLUGIN_ID = "stash-sense"  # The plugin id is the manifest's file name (stash-sense.yml).
EVENTS_PATH = "/api/v1/events/stash"
CACHE_NAME = ".stash-sense-settings.json"
CACHE_TTL_S = 300.0
DEFAULT_TIMEOUT_S = 1.0
MAX_TIMEOUT_S = 30.0
# Share of the budget a settings lookup may use, so that some time is left for the delivery.
LOOKUP_SHARE = 0.6
MAX_RESPONSE_BYTES = 1 << 20
MAX_LOG_CHARS = 2000
MIN_SCRUB_CHARS = 6
USER_AGENT = "stash-sense-hook/1"
FROM_CACHE = "cache"
NOT_CONFIGURED = "set daemonUrl/daemonToken in the plugin settings"
# Pre-encoded GraphQL body; the id in it must equal PLUGIN_ID.
SETTINGS_QUERY = b'{"query":"query { configuration { plugins(include: [\\"stash-sense\\"]) } }"}'

# Before 3.10, socket.timeout is not a TimeoutError; catch both.
TIMEOUTS: tuple[type[OSError], ...] = (TimeoutError, getattr(socket, "timeout", TimeoutError))


class HookError(Exception):
    """Carry a short stdout outcome plus a secret-free reason for the log."""

    def __init__(self, output: str, reason: str) -> None:
        """Store the outcome word and the log reason."""
        super().__init__(reason)
        self.output = output
        self.reason = reason


class Url:
    """Hold the parts of an http(s) URL that the socket client needs."""

    __slots__ = ("host", "path", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int, path: str) -> None:
        """Store already validated URL parts."""
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path

    def origin(self) -> str:
        """Return scheme://host:port, which never holds credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


class Settings:
    """Hold daemonUrl/daemonToken and where each value came from."""

    __slots__ = ("lookup_error", "token", "token_source", "url", "url_source")

    def __init__(self) -> None:
        """Start with nothing found."""
        self.url = ""
        self.token = ""
        self.url_source = ""
        self.token_source = ""
        self.lookup_error = ""

    def complete(self) -> bool:
        """Return whether both values are known."""
        return bool(self.url and self.token)

    def offer(self, url: object, token: object, source: str) -> None:
        """Fill the values still missing from one source, first source wins."""
        if not self.url and isinstance(url, str) and url.strip():
            self.url, self.url_source = url.strip(), source
        if not self.token and isinstance(token, str) and token.strip():
            self.token, self.token_source = token.strip(), source


def parse_url(text: str) -> Url:
    """Split an http(s) URL; a bare host:port means http."""
    # A hand-rolled split because urllib.parse costs ~4 ms of import per event.
    # ASCII only: the host and path go verbatim into the request line and Host header.
    if not text.isascii() or any(ord(c) <= 32 or ord(c) == 127 for c in text):
        raise HookError("bad daemonUrl", "daemonUrl must be ASCII without spaces")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "http", text
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise HookError("bad daemonUrl", "daemonUrl must start with http:// or https://")
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    authority = authority.rpartition("@")[2]  # userinfo is never sent nor logged
    port_text = ""
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        if tail.startswith(":"):
            port_text = tail[1:]
        elif tail:
            raise HookError("bad daemonUrl", "daemonUrl has a malformed IPv6 host")
    else:
        host, _, port_text = authority.partition(":")
    if not host:
        raise HookError("bad daemonUrl", "daemonUrl has no host")
    default_port = 443 if scheme == "https" else 80
    if port_text and not port_text.isdigit():
        raise HookError("bad daemonUrl", "daemonUrl has a malformed port")
    port = int(port_text) if port_text else default_port
    if not 0 < port < 65536:
        raise HookError("bad daemonUrl", "daemonUrl port is out of range")
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return Url(scheme, host, port, path)


def remaining(deadline: float) -> float:
    """Return the seconds left before the deadline, raising once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _is_ip(host: str) -> int:
    """Return the address family of an IP literal, or 0 for a name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family
    return 0


def resolve(host: str, port: int, deadline: float) -> list[tuple[int, tuple[object, ...]]]:
    """Return connectable addresses for host, never waiting past the deadline."""
    family = _is_ip(host)
    if family == socket.AF_INET:
        return [(family, (host, port))]
    if family == socket.AF_INET6:
        return [(family, (host, port, 0, 0))]
    if host.lower() == "localhost":
        # RFC 6761: localhost is loopback; skipping the resolver avoids a thread and a lookup.
        return [(socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET6, ("::1", port, 0, 0))]
    # getaddrinfo has no timeout, so it runs in a daemon thread that the exit abandons if stuck.
    import threading  # noqa: PLC0415 -- lazy: only host names need it

    found: list[tuple[int, tuple[object, ...]]] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        """Resolve in the background and record the result."""
        try:
            for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
                found.append((int(info[0]), tuple(info[4])))
        except OSError as exc:
            failure.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(remaining(deadline))
    if worker.is_alive():
        raise TimeoutError("name lookup timed out")
    if failure or not found:
        raise ConnectionError(f"cannot resolve host {host!r}")
    return found


def connect(host: str, port: int, deadline: float) -> socket.socket:
    """Open a TCP connection to the first address that accepts within the deadline."""
    last: OSError = ConnectionError("no address")
    for family, address in resolve(host, port, deadline):
        try:
            # Inside the try: creating an IPv6 socket fails where IPv6 is disabled.
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            last = exc
            continue
        try:
            sock.settimeout(remaining(deadline))
            sock.connect(address)
        except TIMEOUTS:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last


def _read_more(sock: socket.socket, buf: bytearray, deadline: float) -> bool:
    """Append one recv to buf; return False at end of stream."""
    sock.settimeout(remaining(deadline))
    chunk = sock.recv(65536)
    if not chunk:
        return False
    buf += chunk
    if len(buf) > MAX_RESPONSE_BYTES:
        raise ConnectionError("response too large")
    return True


def _dechunk(data: bytes) -> bytes:
    """Decode a chunked transfer-encoded body."""
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            raise ConnectionError("truncated chunked body")
        size = int(data[pos:eol].split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)  # trailers, if any, are of no interest
        if eol + 2 + size + 2 > len(data):
            raise ConnectionError("truncated chunked body")
        out += data[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


def http_request(
    url: Url, path: str, headers: dict[str, str], body: bytes, deadline: float, *, verify: bool
) -> tuple[int, bytes]:
    """POST body and return (status, response body), all within the deadline."""
    sock = connect(url.host, url.port, deadline)
    try:
        if url.scheme == "https":
            import ssl  # noqa: PLC0415 -- lazy: ~20 ms, only paid when TLS is configured

            context = ssl.create_default_context()
            if not verify:
                # Used only for Stash on loopback, whose certificate rarely names 127.0.0.1.
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            sock.settimeout(remaining(deadline))
            sock = context.wrap_socket(sock, server_hostname=url.host)
        host_header = f"[{url.host}]" if ":" in url.host else url.host
        if url.port != (443 if url.scheme == "https" else 80):
            host_header += f":{url.port}"
        head = [f"POST {path} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {USER_AGENT}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        # One send of head and body, so Nagle's algorithm never holds back a second segment.
        sock.settimeout(remaining(deadline))
        sock.sendall("\r\n".join(head).encode("latin-1") + body)
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            if not _read_more(sock, buf, deadline):
                raise ConnectionError("connection closed before the response headers")
        raw_head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        lines = raw_head.split(b"\r\n")
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ConnectionError("not an HTTP response")
        status = int(parts[1])
        fields: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        body_buf = bytearray(rest)
        length = fields.get(b"content-length", b"")
        if length.isdigit():
            # Stop at Content-Length rather than EOF: a server may ignore "Connection: close".
            want = int(length)
            while len(body_buf) < want and _read_more(sock, body_buf, deadline):
                pass
            return status, bytes(body_buf[:want])
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            # Decode after each read so that a kept-alive connection does not cost a timeout.
            while True:
                try:
                    return status, _dechunk(bytes(body_buf))
                except ConnectionError:
                    if not _read_more(sock, body_buf, deadline):
                        raise
        while _read_more(sock, body_buf, deadline):
            pass
        return status, bytes(body_buf)
    finally:
        sock.close()


def cache_path(conn: dict[str, object]) -> str:
    """Return the settings cache file: in PluginDir, else next to this script."""
    plugin_dir = conn.get("PluginDir")
    if isinstance(plugin_dir, str) and plugin_dir and os.path.isdir(plugin_dir):
        return os.path.join(plugin_dir, CACHE_NAME)
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), CACHE_NAME)


def read_cache(path: str, now: float) -> tuple[str, str] | None:
    """Return cached (url, token) if the file is fresh and well formed."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(65536))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    fetched = data.get("fetched_at")
    url, token = data.get("daemonUrl"), data.get("daemonToken")
    if not isinstance(fetched, (int, float)) or not isinstance(url, str):
        return None
    if not isinstance(token, str):
        return None
    # A timestamp in the future means the clock moved back; treat it as stale.
    if not 0 <= now - fetched < CACHE_TTL_S:
        return None
    return url, token


def write_cache(path: str, url: str, token: str, now: float) -> None:
    """Replace the cache atomically with a file only the owner can read; ignore failures."""
    tmp = f"{path}.{os.getpid()}.tmp"
    payload = json.dumps({"fetched_at": now, "daemonUrl": url, "daemonToken": token}).encode()
    try:
        # O_EXCL with mode 0600 means the token is never readable by others, even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        # A read-only plugin folder only costs a Stash query per event; delivery still works.
        try:  # noqa: SIM105 -- contextlib would be one more import per event
            os.unlink(tmp)
        except OSError:
            pass


def drop_cache(path: str) -> None:
    """Delete the cache file if present."""
    try:  # noqa: SIM105 -- contextlib would be one more import per event
        os.unlink(path)
    except OSError:
        pass


def stash_url(conn: dict[str, object]) -> Url:
    """Return Stash's base URL from server_connection, mapping wildcard hosts to loopback."""
    scheme = conn.get("Scheme")
    host = conn.get("Host")
    port = conn.get("Port")
    scheme = scheme.lower() if isinstance(scheme, str) and scheme else "http"
    host = host.strip("[]") if isinstance(host, str) else ""
    # Stash listens on 0.0.0.0 by default, which is not an address one can connect to.
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 -- mapping away from wildcard, not binding
        host = "127.0.0.1"
    if scheme not in ("http", "https") or not isinstance(port, int) or not 0 < port < 65536:
        raise HookError("not configured", "server_connection has no usable Scheme/Port")
    return Url(scheme, host, port, "")


def session_cookie(conn: dict[str, object]) -> str:
    """Return the Cookie header value for Stash's plugin session cookie, or ''."""
    cookie = conn.get("SessionCookie")
    if not isinstance(cookie, dict):
        return ""
    name, value = cookie.get("Name"), cookie.get("Value")
    if not isinstance(name, str) or not isinstance(value, str) or not name:
        return ""
    if any(c in name + value for c in "\r\n"):
        return ""
    return f"{name}={value}"


def lookup_settings(conn: dict[str, object], deadline: float) -> tuple[str, str]:
    """Ask Stash for this plugin's settings over GraphQL with the session cookie."""
    url = stash_url(conn)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    cookie = session_cookie(conn)
    if cookie:
        headers["Cookie"] = cookie
    loopback = url.host in ("127.0.0.1", "::1", "localhost")
    try:
        status, body = http_request(
            url, "/graphql", headers, SETTINGS_QUERY, deadline, verify=not loopback
        )
    except TIMEOUTS:
        raise HookError("not configured", "Stash settings query timed out") from None
    except (OSError, ValueError) as exc:
        raise HookError("not configured", f"Stash settings query failed ({_why(exc)})") from None
    if status != 200:
        raise HookError("not configured", f"Stash settings query answered HTTP {status}")
    try:
        data = json.loads(body)
        plugins = data["data"]["configuration"]["plugins"]
    except (ValueError, KeyError, TypeError):
        raise HookError("not configured", "Stash settings query gave no plugin settings") from None
    mine: object = None
    if isinstance(plugins, dict):
        for key, value in plugins.items():
            # Stash compares plugin ids case-insensitively.
            if isinstance(key, str) and key.lower() == PLUGIN_ID:
                mine = value
    if not isinstance(mine, dict):
        return "", ""
    url_value, token_value = mine.get("daemonUrl"), mine.get("daemonToken")
    return (
        url_value.strip() if isinstance(url_value, str) else "",
        token_value.strip() if isinstance(token_value, str) else "",
    )


def input_settings(data: dict[str, object]) -> tuple[object, object]:
    """Return (url, token) carried by the input itself, if any."""
    # Newer Stash adds the plugin's settings to the input; the JSON key is unverified.
    for key in ("settings", "Settings"):
        block = data.get(key)
        if isinstance(block, dict):
            if "daemonUrl" in block or "daemonToken" in block:
                return block.get("daemonUrl"), block.get("daemonToken")
            for name, value in block.items():
                if isinstance(name, str) and name.lower() == PLUGIN_ID and isinstance(value, dict):
                    return value.get("daemonUrl"), value.get("daemonToken")
    args = data.get("args")
    if isinstance(args, dict):
        return args.get("daemonUrl"), args.get("daemonToken")
    return None, None


def _why(exc: BaseException) -> str:
    """Describe a network error in a few words, without secrets."""
    if isinstance(exc, TIMEOUTS):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def deliver(url: Url, token: str, body: bytes, deadline: float) -> tuple[int, bytes]:
    """POST the event to the daemon, turning network failures into HookError."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {token}",
    }
    try:
        return http_request(url, url.path + EVENTS_PATH, headers, body, deadline, verify=True)
    except TIMEOUTS:
        raise HookError("daemon timeout", f"no answer from {url.origin()} in time") from None
    except (OSError, ValueError) as exc:
        raise HookError("daemon unreachable", f"{url.origin()}: {_why(exc)}") from None


def outcome(status: int, body: bytes) -> tuple[str, str]:
    """Map the daemon's answer to (stdout output, warning reason or '')."""
    detail = ""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        if 200 <= status < 300:
            state = data.get("status")
            if state in ("duplicate", "ignored"):
                return str(state), ""
            return "queued", ""
        error = data.get("error")
        if isinstance(error, dict):
            detail = f": {error.get('code', '')} {error.get('message', '')}".rstrip()
    if 200 <= status < 300:
        return "queued", ""
    if status == 401:
        return "daemon rejected token", "daemon rejected daemonToken (HTTP 401)"
    if 400 <= status < 500:
        return "daemon rejected event", f"daemon rejected the event (HTTP {status}{detail})"
    return "daemon error", f"daemon failed (HTTP {status}{detail})"


def run(raw: bytes, environ: dict[str, str], now: float) -> tuple[str, str, list[str]]:
    """Handle one event; return (output, warning reason or '', secrets to scrub)."""
    secrets: list[str] = []
    try:
        data = json.loads(raw)
    except ValueError:
        return "bad input", "stdin is not JSON", secrets
    if not isinstance(data, dict):
        return "bad input", "stdin is not a JSON object", secrets
    conn = data.get("server_connection")
    conn = conn if isinstance(conn, dict) else {}
    cookie = conn.get("SessionCookie")
    if isinstance(cookie, dict) and isinstance(cookie.get("Value"), str):
        secrets.append(str(cookie["Value"]))
    args = data.get("args")
    context = args.get("hookContext") if isinstance(args, dict) else None
    if not isinstance(context, dict):
        return "no hook context", "input has no args.hookContext", secrets
    event = f"{context.get('type', '?')} id={context.get('id', '?')}"

    try:
        timeout = float(environ.get("STASH_SENSE_HOOK_TIMEOUT", "") or DEFAULT_TIMEOUT_S)
    except ValueError:
        timeout = DEFAULT_TIMEOUT_S
    if not 0 < timeout <= MAX_TIMEOUT_S:  # also rejects NaN
        timeout = DEFAULT_TIMEOUT_S
    start = time.monotonic()
    deadline = start + timeout
    lookup_deadline = start + timeout * LOOKUP_SHARE

    settings = Settings()
    url_in, token_in = input_settings(data)
    settings.offer(url_in, token_in, "input")
    path = cache_path(conn)
    if not settings.complete():
        cached = read_cache(path, now)
        if cached:
            settings.offer(*cached, FROM_CACHE)
    if not settings.complete() and conn:
        try:
            url_found, token_found = lookup_settings(conn, lookup_deadline)
        except HookError as exc:
            settings.lookup_error = exc.reason
        else:
            if url_found and token_found:
                write_cache(path, url_found, token_found, now)
            settings.offer(url_found, token_found, "stash")
    settings.offer(environ.get("STASH_SENSE_URL"), environ.get("STASH_SENSE_TOKEN"), "env")
    if settings.token:
        secrets.append(settings.token)
    if not settings.complete():
        reason = NOT_CONFIGURED
        if settings.lookup_error:
            reason += f" ({settings.lookup_error})"
        return "not configured", reason, secrets
    if any(ord(c) < 32 or ord(c) == 127 for c in settings.token):
        return "bad daemonToken", "daemonToken contains control characters", secrets

    # Plain ASCII JSON: the same object Stash sent, and safe for any lone surrogate in it.
    body = json.dumps(context, separators=(",", ":")).encode("ascii")
    try:
        url = parse_url(settings.url)
        status, answer = deliver(url, settings.token, body, deadline)
        if status == 401 and settings.token_source == FROM_CACHE:
            # The user may have changed the token since it was cached: re-read it once.
            drop_cache(path)
            try:
                url_found, token_found = lookup_settings(conn, deadline)
            except HookError:
                url_found, token_found = "", ""
            if token_found and url_found:
                secrets.append(token_found)
                write_cache(path, url_found, token_found, now)
                if token_found != settings.token or url_found != settings.url:
                    url = parse_url(url_found)
                    status, answer = deliver(url, token_found, body, deadline)
    except HookError as exc:
        return exc.output, f"{exc.reason}; event {event} dropped", secrets
    output, reason = outcome(status, answer)
    if reason:
        reason = f"{reason}; event {event} dropped"
    return output, reason, secrets


def clean_log(message: str, secrets: list[str]) -> str:
    """Remove secrets and line breaks so the message is one safe log line."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        # Very short values would mangle the message; nothing logged contains them by design.
        if len(secret) >= MIN_SCRUB_CHARS:
            message = message.replace(secret, "***")
    message = "".join(c if c >= " " and c != "\x7f" else " " for c in message)
    return message[:MAX_LOG_CHARS]


def main() -> None:
    """Read Stash's input, forward the event, print one JSON line, always exit 0."""
    output, reason = "internal error", ""
    secrets: list[str] = []
    try:
        raw = sys.stdin.buffer.read()
        output, reason, secrets = run(raw, dict(os.environ), time.time())
    except Exception as exc:  # the hook must never fail a scan, whatever happens
        output, reason = "internal error", f"hook failed ({type(exc).__name__})"
    try:
        if reason:
            # Stash's log protocol: \x01 + level + \x02 + message; w = warning.
            sys.stderr.write(f"\x01w\x02Stash Sense: {clean_log(reason, secrets)}\n")
            sys.stderr.flush()
        sys.stdout.write(json.dumps({"output": output}) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    # _exit: exit status 0 even if Stash closed a pipe, no wait for a stuck resolver thread,
    # and no interpreter teardown on the scan's critical path.
    os._exit(0)


if __name__ == "__main__":
    main()
