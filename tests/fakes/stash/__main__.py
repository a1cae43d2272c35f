"""Run the fake Stash standalone: ``python -m tests.fakes.stash --port 9999 --seed-demo``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .library import Library, StashBoxConfig
from .server import FakeStash

STASHDB = "https://stashdb.org/graphql"


def seed_demo(lib: Library) -> None:
    """Fill the library with a few performers, tags and scenes."""
    lib.stash_boxes.append(StashBoxConfig(endpoint=STASHDB, api_key="demo-key"))
    alice = lib.add_performer(
        "Alice Example", stash_ids=[(STASHDB, "00000000-0000-4000-8000-000000000001")]
    )
    bea = lib.add_performer("Bea Sample", aliases=["B. Sample"])
    lib.add_tag("Outdoor")
    studio = lib.add_studio("Demo Studio")
    lib.add_scene(
        title="Morning walk",
        performers=[alice],
        tags=["Outdoor"],
        studio=studio,
        phash=0x8F3C_1A2B_4D5E_6F70,
        duration=1325.5,
    )
    lib.add_scene(
        title="Evening talk", performers=[alice, bea], phash=0x8F3C_1A2B_4D5E_6F71, duration=1324.0
    )
    lib.add_scene(title="Untagged clip", duration=95.0)


async def serve(args: argparse.Namespace) -> None:
    """Start the fake and wait for Ctrl-C / SIGTERM."""
    fake = FakeStash(api_key=args.api_key, host=args.host, port=args.port, tz_offset=args.tz_offset)
    if args.seed_demo:
        seed_demo(fake.library)
    async with fake:
        print(f"fake Stash listening on {fake.url} (GraphQL {fake.graphql_url})", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.stash", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--tz-offset", default="+02:00")
    parser.add_argument("--seed-demo", action="store_true")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
