"""Typed keys for the objects the daemon keeps on its aiohttp application.

Each key holds one domain's runtime objects; a start-up context publishes its
domain's dataclass once every object in it exists.
"""

from __future__ import annotations

from aiohttp import web

from stash_sense.analyzers.runtime import AnalyzersRuntime
from stash_sense.evaluate.runtime import EvaluateRuntime
from stash_sense.events.runtime import EventsRuntime
from stash_sense.facedb.runtime import FaceDbRuntime
from stash_sense.identify.runtime import IdentifyRuntime
from stash_sense.metrics.runtime import MetricsRuntime
from stash_sense.queue.runtime import QueueRuntime
from stash_sense.review.runtime import ReviewRuntime
from stash_sense.runtime import DaemonRuntime
from stash_sense.stash.runtime import StashRuntime
from stash_sense.store.runtime import StoreRuntime
from stash_sense.tagging.runtime import TaggingRuntime

DAEMON = web.AppKey("daemon", DaemonRuntime)
STORE = web.AppKey("store", StoreRuntime)
REVIEW = web.AppKey("review", ReviewRuntime)
QUEUE = web.AppKey("queue", QueueRuntime)
STASH = web.AppKey("stash", StashRuntime)
IDENTIFY = web.AppKey("identify", IdentifyRuntime)
FACEDB = web.AppKey("facedb", FaceDbRuntime)
EVENTS = web.AppKey("events", EventsRuntime)
EVALUATE = web.AppKey("evaluate", EvaluateRuntime)
TAGGING = web.AppKey("tagging", TaggingRuntime)
ANALYZERS = web.AppKey("analyzers", AnalyzersRuntime)
METRICS = web.AppKey("metrics", MetricsRuntime)
