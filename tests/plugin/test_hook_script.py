"""Run the real Stash hook script as Stash does and check what it sends, prints and logs."""

import asyncio
import json
import os
import shutil
import socket
import stat
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "plugin" / "stash_sense_hook.py"
MANIFEST = ROOT / "plugin" / "stash-sense.yml"
CACHE_NAME = ".stash-sense-settings.json"
TOKEN = "tok-SECRET-5f2b9c0d7e"
COOKIE_VALUE = "cookie-SECRET-MTc2MzcxOTk0N3xEdi1C"
EVENTS_PATH = "/api/v1/events/stash"
# Stash may run the hook with another Python than the daemon's; this checks the script on one.
HOOK_PYTHON = os.environ.get("STASH_SENSE_TEST_HOOK_PYTHON") or sys.executable
# The hook's default budget is 1 s; allow for interpreter start-up on a loaded machine.
FAIL_FAST_S = 1.5

SCENE_UPDATE = {
    "id": 45,
    "type": "Scene.Update.Post",
    "input": {"clientMutationId": None, "id": "45", "tag_ids": ["21"], "title": "Caf\u00e9 \u2603"},
    "inputFields": ["tag_ids", "id", "title"],
}
SCENE_CREATE = {"id": 123, "type": "Scene.Create.Post", "input": None}


@dataclass
class Recorded:
    """One HTTP request a test server received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HookRun:
    """The outcome of one hook process."""

    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed: float

    def output(self) -> object:
        """Return the `output` of the single JSON line on stdout."""
        lines = self.stdout.decode().splitlines()
        assert len(lines) == 1, self.stdout
        data = json.loads(lines[0])
        assert isinstance(data, dict)
        assert set(data) == {"output"}, data
        return data["output"]

    def log_lines(self) -> list[str]:
        """Return stderr split into lines."""
        return self.stderr.decode().splitlines()

    def assert_one_warning(self) -> str:
        """Assert stderr is exactly one Stash warning line and return its message."""
        lines = self.log_lines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("\x01w\x02Stash Sense: "), lines[0]
        return lines[0][3:]

    def assert_secret_free(self) -> None:
        """Assert neither the token nor the session cookie value was printed."""
        for secret in (TOKEN, COOKIE_VALUE, "NEW-TOKEN-7781"):
            assert secret.encode() not in self.stdout
            assert secret.encode() not in self.stderr


@dataclass
class Receiver:
    """A loopback stand-in for the daemon's events endpoint."""

    token: str = TOKEN
    mode: str = "accept"  # accept | duplicate | error | echo
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request and answer like the daemon would."""
        body = await request.read()
        self.requests.append(Recorded(request.path, dict(request.headers), body))
        if self.mode == "error":
            error = {"error": {"code": "internal", "message": "boom"}}
            return web.json_response(error, status=500)
        if self.mode == "echo":  # a careless server reflecting the credentials it was sent
            auth = request.headers.get("Authorization", "")
            error = {"error": {"code": "invalid_payload", "message": f"bad event from {auth}"}}
            return web.json_response(error, status=422)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            error = {"error": {"code": "unauthorized", "message": "bad token"}}
            return web.json_response(error, status=401)
        status = "duplicate" if self.mode == "duplicate" else "accepted"
        return web.json_response({"event_id": "ev-1", "status": status}, status=202)

    @property
    def url(self) -> str:
        """Return the base URL the hook should be configured with."""
        return f"http://127.0.0.1:{self.port}"


@dataclass
class StashStub:
    """Answer Stash's `configuration { plugins(include:) }` query and count calls."""

    settings: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record the query and return the plugin's settings map."""
        body = await request.read()
        self.requests.append(Recorded(request.path, dict(request.headers), body))
        query = json.loads(body)["query"]
        assert "configuration" in query
        assert 'plugins(include: ["stash-sense"])' in query
        # Stash compares plugin ids case-insensitively; the map key may differ in case.
        plugins = {"Stash-Sense": dict(self.settings)} if self.settings else {}
        payload = json.dumps({"data": {"configuration": {"plugins": plugins}}}).encode()
        if not self.chunked:
            return web.json_response(body=payload)
        # Go's net/http chunks larger responses; send two chunks to exercise the decoder.
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(payload[:10])
        await response.write(payload[10:])
        await response.write_eof()
        return response


async def _serve(path: str, handler: object) -> tuple[web.AppRunner, int]:
    """Start an aiohttp app with one POST route on an ephemeral loopback port."""
    app = web.Application()
    app.router.add_post(path, handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    assert isinstance(port, int)
    return runner, port


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """Run a daemon stand-in for one test."""
    rec = Receiver()
    runner, rec.port = await _serve(EVENTS_PATH, rec.handle)
    yield rec
    await runner.cleanup()


@pytest.fixture
async def stash() -> AsyncIterator[StashStub]:
    """Run a Stash GraphQL stand-in for one test."""
    stub = StashStub()
    runner, stub.port = await _serve("/graphql", stub.handle)
    yield stub
    await runner.cleanup()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """Yield a loopback port that refuses connections, held so no one else takes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound but not listening: connects get RST
    yield int(sock.getsockname()[1])
    sock.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Yield a port that accepts connections (kernel backlog) but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield int(sock.getsockname()[1])
    sock.close()


def stash_input(
    hook: dict[str, object],
    *,
    stash_port: int = 9,
    plugin_dir: Path | None = None,
    cookie: bool = True,
    host: str = "0.0.0.0",
    top: dict[str, object] | None = None,
    args: dict[str, object] | None = None,
) -> bytes:
    """Build the stdin document Stash writes for a raw-interface hook."""
    session = None
    if cookie:
        session = {
            "Name": "session",
            "Value": COOKIE_VALUE,
            "Quoted": False,
            "Path": "",
            "Domain": "",
            "Expires": "0001-01-01T00:00:00Z",
            "RawExpires": "",
            "MaxAge": 0,
            "Secure": False,
            "HttpOnly": False,
            "SameSite": 0,
            "Partitioned": False,
            "Raw": "",
            "Unparsed": None,
        }
    doc: dict[str, object] = {
        "server_connection": {
            "Scheme": "http",
            "Host": host,
            "Port": stash_port,
            "SessionCookie": session,
            "Dir": "/root/.stash",
            "PluginDir": str(plugin_dir) if plugin_dir else "",
        },
        "args": {**(args or {}), "hookContext": hook},
    }
    doc.update(top or {})
    return json.dumps(doc).encode()


def hook_env(**extra: str) -> dict[str, str]:
    """Return the parent environment without any Stash Sense variables, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STASH_SENSE_")}
    env.update(extra)
    return env


async def run_hook(
    stdin: bytes, env: dict[str, str] | None = None, script: Path = SCRIPT
) -> HookRun:
    """Spawn the script like Stash: write stdin, close it, read stdout to EOF, wait."""
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        HOOK_PYTHON,
        str(script),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env if env is not None else hook_env(),
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(stdin), timeout=10)
    return HookRun(proc.returncode or 0, stdout, stderr, time.monotonic() - start)


def _listing(folder: Path) -> list[str]:
    """Return the sorted file names in folder."""
    return sorted(p.name for p in folder.iterdir())


def write_cache(plugin_dir: Path, url: str, token: str, age: float = 0.0) -> Path:
    """Place a settings cache file as the hook would have written it."""
    path = plugin_dir / CACHE_NAME
    data = {"fetched_at": time.time() - age, "daemonUrl": url, "daemonToken": token}
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("where", ["settings", "Settings", "args"])
async def test_delivers_event_with_token_and_exact_body(
    receiver: Receiver, tmp_path: Path, where: str
) -> None:
    """Forward hookContext unchanged with the bearer token taken from the input."""
    values: dict[str, object] = {"daemonUrl": receiver.url + "/", "daemonToken": TOKEN}
    stdin = stash_input(
        SCENE_UPDATE,
        plugin_dir=tmp_path,
        top={where: values} if where != "args" else None,
        args=values if where == "args" else None,
    )
    run = await run_hook(stdin)
    assert run.returncode == 0
    assert run.output() == "queued"
    assert run.stderr == b""
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req.path == EVENTS_PATH
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.headers["Content-Type"] == "application/json"
    assert "Cookie" not in req.headers
    assert json.loads(req.body) == SCENE_UPDATE
    assert not (tmp_path / CACHE_NAME).exists()  # input settings need no cache


async def test_reports_duplicate(receiver: Receiver, tmp_path: Path) -> None:
    """Relay the daemon's `duplicate` status as the output."""
    receiver.mode = "duplicate"
    top: dict[str, object] = {"settings": {"daemonUrl": receiver.url, "daemonToken": TOKEN}}
    run = await run_hook(stash_input(SCENE_CREATE, plugin_dir=tmp_path, top=top))
    assert (run.returncode, run.output(), run.stderr) == (0, "duplicate", b"")


async def test_fails_fast_when_daemon_down(closed_port: int, tmp_path: Path) -> None:
    """Exit 0 with one warning when nothing listens on the daemon port."""
    write_cache(tmp_path, f"http://127.0.0.1:{closed_port}", TOKEN)
    run = await run_hook(stash_input(SCENE_CREATE, plugin_dir=tmp_path))
    assert run.returncode == 0
    assert run.output() == "daemon unreachable"
    message = run.assert_one_warning()
    assert "connection refused" in message
    assert "Scene.Create.Post id=123" in message
    assert run.elapsed < FAIL_FAST_S
    run.assert_secret_free()


async def test_gives_up_on_silent_daemon(silent_port: int, tmp_path: Path) -> None:
    """Stop waiting after about a second when the daemon never answers."""
    write_cache(tmp_path, f"http://127.0.0.1:{silent_port}", TOKEN)
    run = await run_hook(stash_input(SCENE_CREATE, plugin_dir=tmp_path))
    assert run.returncode == 0
    assert run.output() == "daemon timeout"
    run.assert_one_warning()
    assert 0.9 < run.elapsed < FAIL_FAST_S
    run.assert_secret_free()


@pytest.mark.parametrize(
    ("mode", "token", "output", "fragment"),
    [
        ("error", TOKEN, "daemon error", "HTTP 500: internal boom"),
        ("accept", "wrong-token", "daemon rejected token", "HTTP 401"),
    ],
    ids=["http-500", "http-401"],
)
async def test_reports_daemon_refusals(
    receiver: Receiver, tmp_path: Path, *, mode: str, token: str, output: str, fragment: str
) -> None:
    """Exit 0 with one warning on HTTP 500 and on a rejected token."""
    receiver.mode = mode
    receiver.token = token
    top: dict[str, object] = {"settings": {"daemonUrl": receiver.url, "daemonToken": TOKEN}}
    run = await run_hook(stash_input(SCENE_CREATE, plugin_dir=tmp_path, top=top))
    assert run.returncode == 0
    assert run.output() == output
    assert fragment in run.assert_one_warning()
    assert run.elapsed < FAIL_FAST_S
    assert len(receiver.requests) == 1  # input settings are fresh: no retry
    run.assert_secret_free()


async def test_scrubs_token_echoed_by_daemon(receiver: Receiver, tmp_path: Path) -> None:
    """Keep the token out of the log even when the daemon's error message repeats it."""
    receiver.mode = "echo"
    top: dict[str, object] = {"settings": {"daemonUrl": receiver.url, "daemonToken": TOKEN}}
    run = await run_hook(stash_input(SCENE_CREATE, plugin_dir=tmp_path, top=top))
    assert (run.returncode, run.output()) == (0, "daemon rejected event")
    message = run.assert_one_warning()
    assert "HTTP 422: invalid_payload bad event from Bearer ***" in message
    run.assert_secret_free()


async def test_silent_stash_lookup_is_bounded(silent_port: int, tmp_path: Path) -> None:
    """Give up on a Stash that never answers the settings query, within the budget."""
    run = await run_hook(stash_input(SCENE_CREATE, stash_port=silent_port, plugin_dir=tmp_path))
    assert (run.returncode, run.output()) == (0, "not configured")
    message = run.assert_one_warning()
    assert "set daemonUrl/daemonToken in the plugin settings" in message
    assert "timed out" in message
    assert run.elapsed < FAIL_FAST_S
    run.assert_secret_free()


@pytest.mark.parametrize(
    ("stdin", "output"),
    [
        (b"", "bad input"),
        (b"{not json", "bad input"),
        (b"[1, 2]", "bad input"),
        (b'{"server_connection": {}, "args": {}}', "no hook context"),
        (b'{"args": {"hookContext": "Scene.Create.Post"}}', "no hook context"),
    ],
)
async def test_survives_malformed_stdin(stdin: bytes, output: str) -> None:
    """Exit 0 with one warning whatever Stash (or a human) pipes in."""
    run = await run_hook(stdin)
    assert run.returncode == 0
    assert run.output() == output
    run.assert_one_warning()


async def test_missing_settings_warns(stash: StashStub, tmp_path: Path) -> None:
    """Ask the user to configure the plugin when no source has settings."""
    stdin = stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path)
    run = await run_hook(stdin)
    assert run.returncode == 0
    assert run.output() == "not configured"
    assert "set daemonUrl/daemonToken in the plugin settings" in run.assert_one_warning()
    assert len(stash.requests) == 1
    assert not (tmp_path / CACHE_NAME).exists()  # nothing to cache: the next event asks again
    run.assert_secret_free()


async def test_looks_up_settings_once_then_uses_cache(
    receiver: Receiver, stash: StashStub, tmp_path: Path
) -> None:
    """Query Stash with the session cookie on a cache miss and reuse the 0600 cache after."""
    stash.settings = {"daemonUrl": receiver.url, "daemonToken": TOKEN}
    stdin = stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path)
    runs = [await run_hook(stdin) for _ in range(3)]
    for run in runs:
        assert (run.returncode, run.output(), run.stderr) == (0, "queued", b"")
    assert len(stash.requests) == 1
    query = stash.requests[0]
    assert query.headers["Cookie"] == f"session={COOKIE_VALUE}"
    assert query.headers["Content-Type"] == "application/json"
    assert len(receiver.requests) == 3
    cache = tmp_path / CACHE_NAME
    if os.name == "posix":
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert json.loads(cache.read_text())["daemonToken"] == TOKEN
    assert _listing(tmp_path) == [CACHE_NAME]  # no temp file left behind


async def test_lookup_without_session_cookie(
    receiver: Receiver, stash: StashStub, tmp_path: Path
) -> None:
    """Query Stash without a Cookie header when Stash sent no session cookie."""
    stash.chunked = True
    stash.settings = {
        "daemonUrl": receiver.url.replace("127.0.0.1", "localhost"),
        "daemonToken": TOKEN,
    }
    stdin = stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path, cookie=False)
    run = await run_hook(stdin)
    assert (run.returncode, run.output()) == (0, "queued")
    assert "Cookie" not in stash.requests[0].headers


async def test_expired_cache_is_refreshed(
    receiver: Receiver, stash: StashStub, tmp_path: Path
) -> None:
    """Re-query Stash once the cache is older than its TTL."""
    write_cache(tmp_path, "http://127.0.0.1:9", "stale-token", age=301)
    stash.settings = {"daemonUrl": receiver.url, "daemonToken": TOKEN}
    run = await run_hook(stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path))
    assert (run.returncode, run.output(), run.stderr) == (0, "queued", b"")
    assert len(stash.requests) == 1
    assert json.loads((tmp_path / CACHE_NAME).read_text())["daemonToken"] == TOKEN


async def test_input_settings_beat_cache(
    receiver: Receiver, stash: StashStub, tmp_path: Path
) -> None:
    """Prefer settings from the input over the cache and never query Stash."""
    write_cache(tmp_path, "http://127.0.0.1:9", "cached-token")
    top: dict[str, object] = {"Settings": {"daemonUrl": receiver.url, "daemonToken": TOKEN}}
    stdin = stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path, top=top)
    run = await run_hook(stdin)
    assert (run.returncode, run.output()) == (0, "queued")
    assert stash.requests == []


async def test_stale_cached_token_is_refetched_once(
    receiver: Receiver, stash: StashStub, tmp_path: Path
) -> None:
    """On 401 with a cached token, re-read settings from Stash and retry once."""
    new_token = "NEW-TOKEN-7781"
    write_cache(tmp_path, receiver.url, TOKEN)
    receiver.token = new_token
    stash.settings = {"daemonUrl": receiver.url, "daemonToken": new_token}
    run = await run_hook(stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path))
    assert (run.returncode, run.output(), run.stderr) == (0, "queued", b"")
    assert len(stash.requests) == 1
    assert [r.headers["Authorization"] for r in receiver.requests] == [
        f"Bearer {TOKEN}",
        f"Bearer {new_token}",
    ]
    assert json.loads((tmp_path / CACHE_NAME).read_text())["daemonToken"] == new_token
    run.assert_secret_free()


async def test_rejected_token_unchanged_in_stash(
    receiver: Receiver, stash: StashStub, tmp_path: Path
) -> None:
    """Warn without a second delivery when Stash still holds the rejected token."""
    write_cache(tmp_path, receiver.url, TOKEN)
    receiver.token = "something-else"
    stash.settings = {"daemonUrl": receiver.url, "daemonToken": TOKEN}
    run = await run_hook(stash_input(SCENE_CREATE, stash_port=stash.port, plugin_dir=tmp_path))
    assert (run.returncode, run.output()) == (0, "daemon rejected token")
    assert "HTTP 401" in run.assert_one_warning()
    assert (len(stash.requests), len(receiver.requests)) == (1, 1)
    run.assert_secret_free()


async def test_environment_is_last_resort(receiver: Receiver, tmp_path: Path) -> None:
    """Use STASH_SENSE_URL/TOKEN when neither input, cache nor Stash has settings."""
    script = tmp_path / "stash_sense_hook.py"  # a private copy keeps its cache out of the repo
    shutil.copy(SCRIPT, script)
    env = hook_env(STASH_SENSE_URL=receiver.url, STASH_SENSE_TOKEN=TOKEN)
    run = await run_hook(json.dumps({"args": {"hookContext": SCENE_CREATE}}).encode(), env, script)
    assert (run.returncode, run.output(), run.stderr) == (0, "queued", b"")
    assert json.loads(receiver.requests[0].body) == SCENE_CREATE


def _manifest_blocks(text: str) -> dict[str, list[str]]:
    """Group the manifest's non-comment lines under their top-level key."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            current = line.split(":", 1)[0]
            assert current not in blocks, f"duplicate key {current}"
            blocks[current] = [line]
        else:
            blocks[current].append(line)
    return blocks


def test_manifest_uses_only_keys_stash_knows() -> None:
    """Keep the manifest loadable by Stash's strict YAML parser."""
    # No YAML library in the venv; the manifest is simple enough to check line by line.
    blocks = _manifest_blocks(MANIFEST.read_text())
    allowed = {"name", "description", "version", "url", "exec", "interface", "errLog", "hooks"}
    allowed |= {"tasks", "settings", "ui"}
    assert set(blocks) <= allowed
    assert blocks["interface"] == ["interface: raw"]
    assert [line.strip() for line in blocks["exec"][1:]] == [
        "- python",
        '- "{pluginDir}/stash_sense_hook.py"',
    ]
    setting_keys = {"displayName", "description", "type"}
    settings: dict[str, set[str]] = {}
    for line in blocks["settings"][1:]:
        key = line.strip().split(":", 1)[0]
        if line.startswith("  ") and not line.startswith("    "):
            settings[key] = set()
        else:
            settings[list(settings)[-1]].add(key)
            if key == "type":
                assert line.split(":", 1)[1].strip() == "STRING"
    assert settings == {"daemonUrl": setting_keys, "daemonToken": setting_keys}
    hook_keys = {"name", "description", "execArgs", "defaultArgs", "triggeredBy"}
    triggers = set()
    for line in blocks["hooks"][1:]:
        item = line.strip().removeprefix("- ")
        if ":" in item:
            assert item.split(":", 1)[0] in hook_keys, line
        else:
            triggers.add(item)
    assert triggers == {
        f"{obj}.{op}.Post"
        for obj in ("Scene", "Performer")
        for op in ("Create", "Update", "Destroy")
    }
