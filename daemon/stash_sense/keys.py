"""Typed keys for the objects the daemon keeps on its aiohttp application."""

from __future__ import annotations

from aiohttp import web

from stash_sense.analyzers.service import AnalyzerService
from stash_sense.api.signing import UrlSigner
from stash_sense.changes import ChangeHub
from stash_sense.config import Config
from stash_sense.events.first_run import FirstRun
from stash_sense.events.intake import EventIntake
from stash_sense.events.reconcile import Reconciler
from stash_sense.facedb.service import FaceDbService
from stash_sense.identify.job import SceneIdentifier
from stash_sense.identify.service import FaceService
from stash_sense.identify.store import IdentificationStore
from stash_sense.queue import JobQueue, JobRegistry
from stash_sense.review import ReviewQueue
from stash_sense.stash.client import StashClient
from stash_sense.stash.monitor import StashStatus
from stash_sense.store import Database
from stash_sense.tagging.corrections import Corrections
from stash_sense.tagging.engine import TaggingEngine
from stash_sense.tagging.resolver import PerformerResolver
from stash_sense.writes import AuditLog, InterruptedWrites

CONFIG = web.AppKey("config", Config)
STARTED_AT = web.AppKey("started_at", float)
DATABASE = web.AppKey("database", Database)
CHANGES = web.AppKey("changes", ChangeHub)
JOB_REGISTRY = web.AppKey("job_registry", JobRegistry)
JOB_QUEUE = web.AppKey("job_queue", JobQueue)
STASH = web.AppKey("stash", StashClient)
STASH_STATUS = web.AppKey("stash_status", StashStatus)
EVENT_INTAKE = web.AppKey("event_intake", EventIntake)
RECONCILER = web.AppKey("reconciler", Reconciler)
FACES = web.AppKey("faces", FaceService)
IDENTIFICATIONS = web.AppKey("identifications", IdentificationStore)
REVIEW = web.AppKey("review", ReviewQueue)
IDENTIFIER = web.AppKey("identifier", SceneIdentifier)
AUDIT = web.AppKey("audit", AuditLog)
INTERRUPTED_WRITES = web.AppKey("interrupted_writes", InterruptedWrites)
TAGGING = web.AppKey("tagging", TaggingEngine)
ANALYZERS = web.AppKey("analyzers", AnalyzerService)
FACEDB = web.AppKey("facedb", FaceDbService)
LIBRARY = web.AppKey("library", FirstRun)
SIGNER = web.AppKey("signer", UrlSigner)
TOKEN = web.AppKey("token", str)
RESOLVER = web.AppKey("resolver", PerformerResolver)
CORRECTIONS = web.AppKey("corrections", Corrections)
