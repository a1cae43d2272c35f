"""The demo's subprocesses (the daemon, each hook run) and ending every one of them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# A user's own settings must never point the demo at their real Stash or daemon.
_ENV_PREFIX = "STASH_SENSE_"


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Return this process's environment without STASH_SENSE_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIX)}
    env.update(extra)
    return env


@dataclass(frozen=True)
class HookRun:
    """What the hook script answered: its one-word outcome and any warning it logged."""

    output: str
    warning: str


class Children:
    """Start subprocesses and end them all, whatever state the demo is in."""

    def __init__(self) -> None:
        self._running: set[asyncio.subprocess.Process] = set()

    @property
    def pids(self) -> list[int]:
        """Return the ids of the children that may still run."""
        return sorted(p.pid for p in self._running if p.returncode is None)

    async def start(
        self,
        *args: str,
        env: Mapping[str, str],
        stdin: int = asyncio.subprocess.DEVNULL,
        stdout: IO[Any] | int = asyncio.subprocess.PIPE,
        stderr: IO[Any] | int = asyncio.subprocess.PIPE,
    ) -> asyncio.subprocess.Process:
        """Start a child in its own session, so that a terminal's Ctrl-C reaches us only."""
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=stdin, stdout=stdout, stderr=stderr, env=dict(env), start_new_session=True
        )
        self._running.add(proc)
        return proc

    async def stop(self, proc: asyncio.subprocess.Process, grace: float) -> int:
        """Ask a child to stop (SIGTERM), kill it after `grace` seconds; return its status."""
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        self._running.discard(proc)
        return proc.returncode if proc.returncode is not None else 0

    async def stop_all(self, grace: float) -> None:
        """Stop every child still running."""
        await asyncio.gather(*(self.stop(p, grace) for p in list(self._running)))

    async def run_hook(
        self, script: Path, plugin_input: Mapping[str, Any], env: Mapping[str, str]
    ) -> HookRun:
        """Run the plugin's hook script as Stash does: input on stdin, one JSON line out."""
        proc = await self.start(sys.executable, str(script), env=env, stdin=asyncio.subprocess.PIPE)
        out, err = await proc.communicate(json.dumps(plugin_input).encode())
        self._running.discard(proc)
        try:
            output = str(json.loads(out)["output"])
        except (ValueError, KeyError, TypeError):
            output = f"unreadable answer {out[:80]!r}"
        # Stash's log protocol: \x01 + level + \x02 + message.
        warning = err.decode(errors="replace").replace("\x01w\x02", "").strip()
        return HookRun(output, warning)
