"""Measure the Stash hook script's wall time per event, spawn to exit, against a baseline."""

# Stash spawns the hook once per event and waits for it, so spawn-to-exit is what a scan pays.
# Scenarios run round-robin so that machine noise spreads evenly over all of them.

import argparse
import asyncio
import json
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "plugin" / "stash_sense_hook.py"
CACHE_NAME = ".stash-sense-settings.json"
TOKEN = "bench-token"
EVENT = {"id": 123, "type": "Scene.Create.Post", "input": None}


class Receiver:
    """Answer 202 on the events endpoint from a background thread's event loop."""

    def __init__(self) -> None:
        """Prepare the loop; call start() to serve."""
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.count = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        """Accept any event like the daemon does."""
        await request.read()
        self.count += 1
        return web.json_response({"event_id": str(self.count), "status": "accepted"}, status=202)

    def _main(self) -> None:
        """Run the server until the loop is stopped."""
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/api/v1/events/stash", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = int(runner.addresses[0][1])
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def start(self) -> str:
        """Start serving and return the base URL."""
        self._thread.start()
        self._ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the loop and wait for the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def stash_input(plugin_dir: Path) -> bytes:
    """Build the stdin Stash writes for a scan-created scene."""
    # Port 9 (discard) is never queried: the settings come from the fresh cache.
    conn = {"Scheme": "http", "Host": "0.0.0.0", "Port": 9, "SessionCookie": None}
    conn |= {"Dir": str(plugin_dir.parent), "PluginDir": str(plugin_dir)}
    return json.dumps({"server_connection": conn, "args": {"hookContext": EVENT}}).encode()


def write_cache(plugin_dir: Path, url: str, token: str) -> None:
    """Write a fresh settings cache so that no run queries Stash."""
    data = {"fetched_at": time.time(), "daemonUrl": url, "daemonToken": token}
    path = plugin_dir / CACHE_NAME
    path.write_text(json.dumps(data))
    path.chmod(0o600)


def time_once(argv: list[str], stdin: bytes, env: dict[str, str]) -> tuple[float, bytes]:
    """Spawn argv with stdin, wait for exit, return (seconds, stdout)."""
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv} exited {done.returncode}: {done.stderr!r}")
    return elapsed, done.stdout


def main() -> None:
    """Run the scenarios and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="measured runs per scenario")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured runs per scenario")
    parser.add_argument("--python", default=sys.executable, help="interpreter Stash would use")
    parser.add_argument("--daemon-url", help="use a running daemon instead of the built-in 202")
    parser.add_argument("--token", default=TOKEN, help="token for --daemon-url")
    opts = parser.parse_args()

    receiver = None
    if opts.daemon_url:
        up_url, token = opts.daemon_url, opts.token
    else:
        receiver = Receiver()
        up_url, token = receiver.start(), TOKEN
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    down_url = f"http://127.0.0.1:{closed.getsockname()[1]}"

    env = {k: v for k, v in os.environ.items() if not k.startswith("STASH_SENSE_")}
    with tempfile.TemporaryDirectory() as tmp:
        up_dir, down_dir = Path(tmp, "up"), Path(tmp, "down")
        up_dir.mkdir()
        down_dir.mkdir()
        hook = [opts.python, str(SCRIPT)]
        scenarios: list[tuple[str, list[str], bytes, Path | None, str, bytes]] = [
            ("baseline: `python -c pass`", [opts.python, "-c", "pass"], b"", None, "", b""),
            ("hook, daemon up (202)", hook, stash_input(up_dir), up_dir, up_url, b"queued"),
            (
                "hook, daemon down (port closed)",
                hook,
                stash_input(down_dir),
                down_dir,
                down_url,
                b"daemon unreachable",
            ),
            (
                "hook, daemon up, `python -S` (info)",
                [opts.python, "-S", str(SCRIPT)],
                stash_input(up_dir),
                up_dir,
                up_url,
                b"queued",
            ),
        ]
        times: list[list[float]] = [[] for _ in scenarios]
        for i in range(opts.warmup + opts.runs):
            if i % 50 == 0:  # keep the cache well inside its 5-minute TTL
                write_cache(up_dir, up_url, token)
                write_cache(down_dir, down_url, token)
            for (_, argv, stdin, _, _, expect), bucket in zip(scenarios, times, strict=True):
                elapsed, out = time_once(argv, stdin, env)
                if expect and json.loads(out)["output"] != expect.decode():
                    raise SystemExit(f"unexpected output {out!r} from {argv}")
                if i >= opts.warmup:
                    bucket.append(elapsed)
    closed.close()
    if receiver:
        receiver.stop()

    base = statistics.median(times[0])
    print(f"Machine: {platform.platform()}, {platform.machine()}, os.cpu_count()={os.cpu_count()}")
    print(f"Python: {platform.python_implementation()} {platform.python_version()} ({opts.python})")
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"Runs: {opts.runs} per scenario after {opts.warmup} warm-up, round-robin")
    print(f"Daemon: {'real at ' + up_url if opts.daemon_url else 'loopback aiohttp stub (202)'}")
    print("Settings: from the hook's cache file (no Stash query)")
    print()
    print("| scenario | median ms | p95 ms | median / baseline |")
    print("|---|---:|---:|---:|")
    for (name, *_), bucket in zip(scenarios, times, strict=True):
        median = statistics.median(bucket)
        p95 = statistics.quantiles(bucket, n=100, method="inclusive")[94]
        print(f"| {name} | {median * 1000:.1f} | {p95 * 1000:.1f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
