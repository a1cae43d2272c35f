"""See Stash Sense work without a Stash: `scripts/demo` (`python -m tests.demo`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.demo import daemon, world
from tests.demo.kit import DemoKit, ensure_kit
from tests.demo.narrate import Narrator
from tests.demo.processes import Children, clean_env
from tests.fakes.stash.server import FakeStash
from tests.fakes.stash.ui import HOST_DIR, PLUGIN_ID, UiHost
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT / "data" / "demo"
READY_TIMEOUT_S = 120.0
IDENTIFY_TIMEOUT_S = 120.0
DAEMON_GRACE_S = 15.0
# The hook's own default is 1 s, which a busy two-core machine can miss.
HOOK_ENV = {"STASH_SENSE_HOOK_TIMEOUT": "10"}


def say(line: str) -> None:
    """Print one step line at once (the output may be a pipe)."""
    print(line, flush=True)


def _port(text: str) -> int:
    """Parse a TCP port (0 picks a free one)."""
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument(
        "--headless", action="store_true", help="scan at once, exit when the scenes are identified"
    )
    parser.add_argument("--scenes", type=int, default=3, help="new scenes per scan (default 3)")
    parser.add_argument("--port", type=_port, default=0, help="page port (default: a free one)")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA, help=f"cache and run folder ({DEFAULT_DATA})"
    )
    return parser


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[bool]:
    """Hold the data dir's lock; yield False when another demo holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "demo.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _scenes(count: int) -> str:
    """Say "1 new scene" or "3 new scenes"."""
    return f"{count} new scene{'s' if count != 1 else ''}"


def _unpack(files: dict[str, bytes], folder: Path) -> None:
    """Write the plugin's files into its folder, as Stash unzips a package."""
    root = folder.resolve()
    for name, data in files.items():
        target = (root / name).resolve()
        if target.is_relative_to(root) and not name.endswith("/"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _read(fd: int) -> bytes:
    """Read what stdin has; an unreadable stdin counts as its end."""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


class Demo:
    """The running parts: fake Stash, daemon, hooks; and the scans a newcomer watches."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir: Path = args.data_dir / "run"
        self.plugin_dir = self.run_dir / "plugins" / PLUGIN_ID
        self.children = Children()
        self.fake: FakeStash | None = None
        self.api: daemon.DaemonApi | None = None
        self.daemon_proc: asyncio.subprocess.Process | None = None
        self.follows: list[asyncio.Task[bool]] = []
        self.scanned = 0

    async def play(self) -> int:
        """Start everything, scan, narrate; return the exit status."""
        kit = await self._kit()
        await asyncio.to_thread(self._fresh_run_dir)
        fake = await self._start_stash(kit)
        api = await self._start_daemon(fake, kit)
        narrator = Narrator(api, say)
        await self._install_plugin(fake, api)
        fake.hook_listeners.append(lambda payload: self._hook(payload, narrator))
        say(f"Stash page:   {fake.url}/  (a stand-in Stash with the plugin installed)")
        say(f"review queue: {fake.url}/plugins/stash-sense/review")
        say(f"daemon:       {api.url}  (log: {self.run_dir / 'daemon.log'})")
        if not (HOST_DIR / "node_modules").is_dir():
            say(f"warning: {HOST_DIR}/node_modules is missing: run `npm ci` there for the page")
        more_input = not self.args.headless
        while True:
            if more_input:
                more_input = await self._wait_for_enter()
            if not more_input and not self.args.headless and self.scanned:
                say("no more input: the demo stays up until Ctrl-C")
                await asyncio.Event().wait()
            ok = await self._scan(fake, kit)
            if self.args.headless:
                return 0 if ok else 1
            say(f"open {fake.url}/plugins/stash-sense/review to accept or reject suggestions")

    async def _kit(self) -> DemoKit:
        cache = self.args.data_dir / "kit"
        began = time.monotonic()
        kit, built = await asyncio.to_thread(ensure_kit, cache)
        if built:
            say(f"face kit: generated into {cache} in {time.monotonic() - began:.1f} s")
        else:
            say(f"face kit: reused from {cache}")
        return kit

    def _fresh_run_dir(self) -> None:
        """Start from an empty run folder: the fake Stash's library is new every time."""
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.plugin_dir.mkdir(parents=True)

    async def _start_stash(self, kit: DemoKit) -> FakeStash:
        fake = FakeStash(
            host="127.0.0.1",
            port=self.args.port,
            config_dir=str(self.run_dir / "stash"),
            plugin_dir=str(self.plugin_dir),
        )
        await asyncio.to_thread(world.seed, fake.library, kit, self.run_dir / "media")
        self.fake = await fake.start()
        say(f"fake Stash: {len(fake.library.scenes)} scenes, performers Alice and Bob")
        return fake

    async def _start_daemon(self, fake: FakeStash, kit: DemoKit) -> daemon.DaemonApi:
        port, token = free_port(), secrets.token_urlsafe(24)
        config_file = self.run_dir / "config.toml"
        settings = daemon.config(
            self.run_dir / "daemon", port=port, stash_url=fake.url, page_url=fake.url, kit=kit
        )
        await asyncio.to_thread(daemon.write_toml, config_file, settings)
        log = await asyncio.to_thread((self.run_dir / "daemon.log").open, "wb")
        with log:
            self.daemon_proc = await self.children.start(
                sys.executable,
                "-m",
                "stash_sense",
                "run",
                "--config",
                str(config_file),
                env=clean_env({"STASH_SENSE_SERVER__TOKEN": token}),
                stdout=log,
                stderr=log,
            )
        self.api = daemon.DaemonApi(f"http://127.0.0.1:{port}", token)
        say("daemon: starting (stash-sense run, tagging.mode = auto)")
        health = await self.api.wait_ready(self.daemon_proc, READY_TIMEOUT_S)
        db = health["faces"]["database"] or {}
        say(
            f"daemon: ready, face database {db.get('version')} "
            f"with {db.get('performer_count')} performers"
        )
        return self.api

    async def _install_plugin(self, fake: FakeStash, api: daemon.DaemonApi) -> None:
        """Install the plugin from the daemon's source and point its settings at the daemon."""
        files = await api.plugin_files()
        await asyncio.to_thread(_unpack, files, self.plugin_dir)
        fake.ui = UiHost(files)
        # What a user types into the plugin's settings; the hook and the page read them.
        fake.library.plugin_settings[PLUGIN_ID] = {"daemonUrl": api.url, "daemonToken": api.token}

    async def _hook(self, payload: dict[str, Any], narrator: Narrator) -> None:
        """Run the installed hook script for one Stash event; follow new scenes."""
        context = payload["args"]["hookContext"]
        scene = context.get("id")
        created = context["type"] == "Scene.Create.Post"
        if created and self.fake is not None:
            title = self.fake.library.scene(scene).title
            say(f"scene {scene} added: {title!r}")
        run = await self.children.run_hook(
            self.plugin_dir / "stash_sense_hook.py", payload, clean_env(HOOK_ENV)
        )
        if run.output != "queued" or run.warning:
            say(f"scene {scene}: hook answered {run.output!r} {run.warning}".rstrip())
        elif created:
            say(f"scene {scene}: the plugin hook sent it to the daemon")
        if created:
            self.follows.append(
                asyncio.create_task(narrator.follow(int(scene), IDENTIFY_TIMEOUT_S))
            )

    async def _scan(self, fake: FakeStash, kit: DemoKit) -> bool:
        """Scan new scenes into the library and wait until each is identified."""
        specs = await asyncio.to_thread(
            world.new_scenes, kit, self.run_dir / "media", self.scanned, self.args.scenes
        )
        self.scanned += len(specs)
        say(f"scan: {_scenes(len(specs))} found")
        # A pause between scenes lets a newcomer watch each one arrive.
        created = await fake.simulate_scan(specs, delay_s=0.0 if self.args.headless else 1.5)
        follows, self.follows = self.follows, []
        results = await asyncio.gather(*follows)
        if not self.args.headless:
            say(f"each scene's Faces tab shows why: {fake.url}/scenes/{created[0].id}")
        return len(results) == len(specs) and all(results)

    async def _wait_for_enter(self) -> bool:
        """Wait for a line on stdin; return False at end of input (then one scan runs)."""
        count = self.args.scenes
        say(f"press Enter to scan {_scenes(count)} into the library (Ctrl-C stops)")
        fd = sys.stdin.fileno() if sys.stdin is not None else -1
        loop = asyncio.get_running_loop()
        line: asyncio.Future[bytes] = loop.create_future()

        def readable() -> None:
            if not line.done():
                line.set_result(_read(fd))

        try:
            loop.add_reader(fd, readable)
        except (OSError, ValueError):
            # A regular file (or no stdin at all) cannot be watched; reading it never blocks.
            return bool(_read(fd))
        try:
            return bool(await line)
        finally:
            loop.remove_reader(fd)

    async def close(self) -> None:
        """End every child (the daemon first, gracefully), then the fake Stash."""
        for task in self.follows:
            task.cancel()
        if self.daemon_proc is not None:
            status = await self.children.stop(self.daemon_proc, DAEMON_GRACE_S)
            if status not in (0, -signal.SIGTERM):
                say(f"daemon: exited with status {status} (see {self.run_dir / 'daemon.log'})")
        await self.children.stop_all(2.0)
        if self.api is not None:
            await self.api.close()
        if self.fake is not None:
            await self.fake.stop()


async def _main(args: argparse.Namespace) -> int:
    """Play the demo until it ends or SIGINT/SIGTERM arrives; always clean up."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    demo = Demo(args)
    play = asyncio.create_task(demo.play())
    stop = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({play, stop}, return_when=asyncio.FIRST_COMPLETED)
        if play.done():
            return play.result()
        say("stopping")
        play.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await play
        return 0
    except (daemon.DaemonError, OSError, aiohttp.ClientError) as err:
        say(f"demo failed: {err}")
        return 1
    finally:
        stop.cancel()
        await demo.close()
        say("stopped")


def main() -> int:
    """Parse the arguments and run the demo."""
    args = _parser().parse_args()
    if args.scenes < 1:
        _parser().error("--scenes must be at least 1")
    args.data_dir = args.data_dir.resolve()
    with _exclusive(args.data_dir) as mine:
        if not mine:
            print(f"another demo is running with {args.data_dir}", file=sys.stderr)
            return 2
        return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
