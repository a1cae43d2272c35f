"""The one-command demo (`scripts/demo`): Stash Sense working on a synthetic library.

It lives beside the tests because it is assembled from them: the fake Stash
(`tests/fakes/stash/`), the face test kit (`tests/faces/`) and the plugin host page of the
browser tests. None of these ship in the `stash_sense` package, so the demo runs from a
source checkout only, and the real daemon is started exactly as a user starts it
(`stash-sense run` as a subprocess, with a generated config).

- `kit.py`: the stand-in models, face database and clips, generated once into a cache;
- `world.py`: the fake Stash's seeded library and the scenes a scan adds;
- `processes.py`: the daemon and hook subprocesses, and stopping them;
- `daemon.py`: the daemon's config and a small client of its API;
- `narrate.py`: one printed line per thing a newcomer should notice;
- `__main__.py`: the command line and the order of events.
"""
