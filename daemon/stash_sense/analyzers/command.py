"""The `analyze` command: run one analyzer in this process, with a progress bar."""

from __future__ import annotations

import sys
from typing import TextIO

from stash_sense.analyzers.base import AnalyzerServices
from stash_sense.analyzers.registry import UnknownAnalyzer
from stash_sense.analyzers.runner import run_key
from stash_sense.analyzers.service import build_service
from stash_sense.config import Config
from stash_sense.daemon import DB_FILE, data_dir
from stash_sense.identify.store import IdentificationStore
from stash_sense.queue import JobStore
from stash_sense.review import ReviewQueue
from stash_sense.stash.client import StashClient
from stash_sense.store import Database
from stash_sense.writes import AuditLog

_BAR = 30


class ProgressBar:
    """Draw `[####----] done/total message` on one line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._drawn = False

    async def __call__(self, done: int, total: int | None, message: str | None) -> None:
        """Redraw the bar."""
        filled = min(_BAR, int(_BAR * done / total)) if total else 0
        bar = "#" * filled + "-" * (_BAR - filled)
        self._out.write(f"\r[{bar}] {done}/{total if total is not None else '?'} {message or ''}")
        self._out.flush()
        self._drawn = True

    def end(self) -> None:
        """Finish the bar's line."""
        if self._drawn:
            self._out.write("\n")
            self._out.flush()


async def analyze_command(config: Config, name: str, *, full: bool) -> int:
    """Run one analyzer now; return 0 on success, 1 with a one-line reason otherwise."""
    db = Database(data_dir(config) / DB_FILE, busy_timeout_ms=config.store.busy_timeout_ms)
    bar = ProgressBar(sys.stderr)
    try:
        await db.open()
        async with StashClient(config.stash) as stash:
            reviews = ReviewQueue(db)
            # Read only here: duplicate scenes compare the casts faces identified.
            faces = IdentificationStore(db, data_dir(config) / "crops", max_crop_bytes=0)
            services = AnalyzerServices(stash, config, db, reviews, AuditLog(db), faces)
            service = build_service(services)
            service.registry.get(name)
            # The daemon may be running this analyzer right now: never two runs at once.
            live = await JobStore(db).live_by_keys([run_key(name)])
            if live:
                print(
                    f"error: {name} is already {live[0].state} as job {live[0].id}", file=sys.stderr
                )
                return 1
            # Only the operations this analyzer sends must fit Stash's schema: an
            # incompatible one fails at its first use with the reason.
            await stash.check_schema()
            result = await service.runner.run(name, full=full, progress=bar)
    except UnknownAnalyzer as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:
        bar.end()
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"error: {name} failed: {reason}", file=sys.stderr)
        return 1
    finally:
        await db.close(checkpoint=False)
    bar.end()
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items()) or "nothing to report"
    print(f"{name}: {'full' if result.full else 'incremental'} run done: {counts}")
    return 0
