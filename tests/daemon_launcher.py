"""Run the real daemon with one extra test job type, for subprocess tests.

`test.sleep` sleeps, then appends its job id to a file: the test reads that file to
see which jobs completed and how often they ran.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from stash_sense.config import load_config
from stash_sense.daemon import build_app, serve
from stash_sense.keys import DAEMON
from stash_sense.logs import setup_logging
from stash_sense.queue import JobContext, JobType, Resource


@dataclass(frozen=True)
class SleepArgs:
    seconds: float


def sleep_job(done_file: Path) -> JobType[SleepArgs]:
    """Build the test job type."""

    async def handler(ctx: JobContext, args: SleepArgs) -> None:
        steps = max(int(args.seconds / 0.05), 1)
        for _ in range(steps):
            ctx.check_cancelled()
            await asyncio.sleep(args.seconds / steps)
        with done_file.open("a", encoding="utf-8") as out:
            out.write(f"{ctx.job.id}\n")
            out.flush()
            os.fsync(out.fileno())

    return JobType("test.sleep", SleepArgs, handler, resource=Resource.IO)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--done-file", type=Path, required=True)
    args = parser.parse_args()
    config, _ = load_config(args.config)
    setup_logging(config.log.level, [config.server.token])
    app = build_app(config, config.server.token)
    app[DAEMON].registry.register(sleep_job(args.done_file))
    asyncio.run(serve(app))


if __name__ == "__main__":
    main()
