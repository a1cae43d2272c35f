"""The settings tree: one frozen dataclass per TOML section, defaults and limits in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The fields the upstream analyzers compare, per entity (a test keeps this in step with
# `analyzers/upstream_fields.py`; config stays free of imports from the rest).
_UPSTREAM_FIELDS = {
    "performer": "name disambiguation aliases urls gender birthdate death_date ethnicity"
    " country eye_color hair_color height cup_size band_size waist_size hip_size breast_type"
    " career_start_year career_end_year tattoos piercings",
    "studio": "name aliases urls parent",
    "tag": "name description aliases",
    "scene": "title date details urls code director studio performers tags",
}
CALIBRATED = "calibrated"  # [tagging] auto_min_confidence: take the threshold from calibration
UPSTREAM_FIELD_NAMES = tuple(
    f"{entity}.{name}" for entity, names in _UPSTREAM_FIELDS.items() for name in names.split()
)


def setting(
    default: Any,
    doc: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
    url: bool = False,
    multiple_of: int | None = None,
    path: bool = False,
) -> Any:
    """Declare a config key with its default, one-line doc and validation limits."""
    meta = {
        "doc": doc,
        "min": min,
        "max": max,
        "choices": choices,
        "secret": secret,
        "url": url,
        "multiple_of": multiple_of,
        "path": path,
    }
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def section(cls: type[Any], doc: str) -> Any:
    """Declare a nested section with its one-line doc."""
    return field(default_factory=cls, metadata={"doc": doc, "section": True})


@dataclass(frozen=True)
class ServerConfig:
    """HTTP API settings."""

    host: str = setting("127.0.0.1", "Address the API binds to; use 0.0.0.0 in Docker.")
    port: int = setting(6960, "TCP port of the API.", min=1, max=65535)
    token: str = setting(
        "",
        "Bearer token for the API; empty: generate one into the data dir on first start.",
        secret=True,
    )
    cors_origins: list[str] = setting(
        [], "Browser origins allowed to call the API, e.g. your Stash URL.", url=True
    )
    public_url: str = setting(
        "",
        "URL browsers use to reach the API (put into the plugin's CSP); empty: from host/port.",
        url=True,
    )
    max_body_bytes: int = setting(
        1_048_576, "Largest request body accepted, in bytes.", min=1024, max=64 * 1_048_576
    )


@dataclass(frozen=True)
class StashConfig:
    """How to reach Stash."""

    url: str = setting("http://localhost:9999", "Base URL of Stash (without /graphql).", url=True)
    api_key: str = setting(
        "", "Stash API key (Settings > Security); empty when Stash has no login.", secret=True
    )
    requests_per_second: float = setting(
        5.0, "Shared rate limit for all GraphQL calls to Stash.", min=0.1, max=1000
    )
    timeout_seconds: float = setting(30.0, "Timeout of one GraphQL request.", min=1, max=600)
    max_retries: int = setting(
        3, "Retries of a request on transient errors (refused, 5xx, timeout).", min=0, max=20
    )
    check_interval_seconds: float = setting(
        30.0, "How often to re-check Stash's reachability and schema.", min=1, max=3600
    )


@dataclass(frozen=True)
class PathsConfig:
    """Where Stash Sense keeps its files."""

    data_dir: str = setting("./data", "Folder for the database, token and caches.", path=True)


@dataclass(frozen=True)
class LogConfig:
    """Logging."""

    level: str = setting(
        "INFO", "Log level.", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    )


@dataclass(frozen=True)
class StoreConfig:
    """SQLite store tuning."""

    busy_timeout_ms: int = setting(
        5000, "How long a connection waits for a lock before failing.", min=100, max=600_000
    )
    checkpoint_interval_seconds: float = setting(
        300.0, "How often the WAL is checkpointed (truncated).", min=5, max=86_400
    )


@dataclass(frozen=True)
class ConcurrencyConfig:
    """Workers per resource class."""

    gpu: int = setting(1, "Concurrent jobs on the GPU (face identification).", min=0, max=16)
    cpu: int = setting(1, "Concurrent CPU-heavy jobs (analyzers, hashing).", min=0, max=64)
    io: int = setting(2, "Concurrent I/O-bound jobs (Stash and stash-box calls).", min=0, max=64)


@dataclass(frozen=True)
class QueueConfig:
    """Durable job queue."""

    max_attempts: int = setting(
        5, "Attempts before a job is marked failed (dead letter).", min=1, max=100
    )
    retry_base_seconds: float = setting(
        5.0, "First retry delay; doubles per attempt, with jitter.", min=0, max=86_400
    )
    retry_max_seconds: float = setting(
        3600.0, "Upper bound of one retry delay.", min=0, max=604_800
    )
    shutdown_grace_seconds: float = setting(
        30.0,
        "On shutdown, how long running jobs (and review accepts) may finish before they"
        " are requeued (accepts: left pending).",
        min=0,
        max=3600,
    )
    poll_interval_seconds: float = setting(
        5.0, "Safety-net poll for due jobs; enqueues wake workers at once.", min=0.05, max=600
    )
    keep_finished_days: float = setting(
        14.0, "Succeeded and cancelled jobs older than this are pruned.", min=0, max=3650
    )
    keep_failed_days: float = setting(
        30.0, "Failed jobs older than this are pruned.", min=0, max=3650
    )
    prune_interval_hours: float = setting(
        6.0, "How often the prune maintenance job is enqueued.", min=0.01, max=720
    )
    concurrency: ConcurrencyConfig = section(ConcurrencyConfig, "Workers per resource class.")


@dataclass(frozen=True)
class EventsConfig:
    """How Stash events reach the daemon."""

    subscriptions: bool = setting(
        True, "Listen to Stash's job and scan-complete subscriptions over a websocket."
    )
    reconcile_interval_seconds: float = setting(
        300.0, "How often to poll Stash for scenes that no event announced.", min=10, max=86_400
    )
    reconcile_page_size: int = setting(
        100, "Scenes per findScenes page when reconciling or backfilling.", min=1, max=1000
    )
    updated_margin_seconds: float = setting(
        7200.0,
        "Overlap when polling updated scenes; covers clock and DST shifts in Stash's timestamps.",
        min=0,
        max=604_800,
    )
    reconnect_max_seconds: float = setting(
        60.0, "Longest wait between websocket reconnection attempts.", min=1, max=3600
    )
    keep_events_days: float = setting(
        7.0, "Received events are kept this long for inspection.", min=0, max=3650
    )
    backfill_on_first_run: bool = setting(
        False,
        "On the first start against a library, queue identification of every existing scene; "
        "otherwise the health route and the UI only offer it.",
    )


@dataclass(frozen=True)
class FacesConfig:
    """Face identification: models, database, sampling, matching."""

    models_dir: str = setting(
        "./data/models",
        "Folder with det_500m.onnx, facenet512.onnx and arcface.onnx.",
        path=True,
    )
    database_dir: str = setting(
        "./data/face-db",
        "Folder with an unpacked Stash Sense face-database release.",
        path=True,
    )
    execution_provider: str = setting(
        "auto",
        "ONNX Runtime provider: auto (GPU when present), cuda, tensorrt (fail if absent), cpu.",
        choices=("auto", "cuda", "tensorrt", "cpu"),
    )
    verify_checksums: str = setting(
        "auto",
        "Check release SHA-256 sums: auto (when files change), always, never.",
        choices=("auto", "always", "never"),
    )
    path_mappings: list[str] = setting(
        [], 'Stash path prefix to local prefix, e.g. "/data/=/mnt/media/"; else stream from Stash.'
    )
    num_frames: int = setting(60, "Frames sampled per scene.", min=1, max=500)
    start_fraction: float = setting(
        0.05, "Where sampling starts, as a fraction of the duration.", min=0, max=0.5
    )
    end_fraction: float = setting(
        0.95, "Where sampling ends, as a fraction of the duration.", min=0.5, max=1
    )
    detection_size: int = setting(
        640,
        "Square input size of the face detector (a multiple of 32).",
        min=160,
        max=1280,
        multiple_of=32,
    )
    detection_threshold: float = setting(0.5, "Minimum detector score.", min=0.05, max=1)
    nms_threshold: float = setting(0.4, "Overlap above which detections merge.", min=0.05, max=1)
    min_face_size: int = setting(
        40, "Faces smaller than this (pixels, width and height) are ignored.", min=8, max=1000
    )
    max_faces_per_frame: int = setting(
        10,
        "Faces kept per frame, the largest first (bounds the cost of a crowd or a bad detector).",
        min=1,
        max=1000,
    )
    max_faces_per_scene: int = setting(
        300,
        "Faces kept per scene, the sharpest first (bounds the cost of one scene).",
        min=1,
        max=100_000,
    )
    embedding_batch_size: int = setting(
        32, "Faces per embedding call (larger is faster on a GPU).", min=1, max=1024
    )
    query_k: int = setting(100, "Neighbours fetched per face from each index.", min=1, max=1000)
    query_ef: int = setting(
        400,
        "Voyager search breadth; higher gives better recall (below query_k acts as query_k).",
        min=10,
        max=10_000,
    )
    facenet_weight: float = setting(0.5, "Weight of FaceNet in the fused distance.", min=0, max=1)
    max_distance: float = setting(
        0.5, "Candidates farther than this fused distance are dropped.", min=0, max=2
    )
    cluster_threshold: float = setting(
        0.6, "Cosine distance under which faces join the same person.", min=0.05, max=2
    )
    matcher: str = setting(
        "precision",
        "How persons get their performer: precision (abstains when unsure) or "
        "clustered_frequency (the reference default).",
        choices=("precision", "clustered_frequency"),
    )
    top_k: int = setting(3, "Matches kept per person (best plus alternatives).", min=1, max=20)
    min_confidence: float = setting(
        0.35, "Matches below this confidence are not proposed.", min=0, max=1
    )
    tagged_boost: float = setting(
        0.03, "Score bonus for performers already tagged on the scene.", min=0, max=1
    )
    min_frames: int = setting(
        2, "Precision matcher: distinct frames a performer must match in.", min=1, max=100
    )
    min_margin: float = setting(
        0.05, "Precision matcher: abstain when the runner-up is this close.", min=0, max=1
    )
    crops_max_mb: int = setting(
        200, "Size cap of stored face crops (evidence for review).", min=1, max=100_000
    )
    cuda_device: int = setting(
        0, "GPU (CUDA device index) for inference and hardware decode.", min=0, max=63
    )
    cuda_arena: str = setting(
        "same_as_requested",
        "How CUDA's memory pool grows: same_as_requested (only what the models ask, fits small "
        "GPUs) or next_power_of_two (fewer allocations, may hold up to twice the memory).",
        choices=("same_as_requested", "next_power_of_two"),
    )
    cudnn_conv_algo_search: str = setting(
        "heuristic",
        "cuDNN convolution choice: heuristic (quick), exhaustive (times every algorithm for each "
        "new batch size: slow first calls, maybe faster after), default (no search).",
        choices=("heuristic", "exhaustive", "default"),
    )
    tensorrt_cache_dir: str = setting(
        "./data/trt-cache",
        "Where TensorRT keeps built engines: the first start builds them for minutes, later "
        "starts load them (delete it after a driver or TensorRT upgrade).",
        path=True,
    )
    tensorrt_fp16: bool = setting(
        False,
        "Let TensorRT compute in FP16: faster, but the embeddings move and no recall check "
        "vouches for it yet.",
    )
    io_binding: str = setting(
        "auto",
        "Feed models through ONNX Runtime IO binding (inputs copied to the GPU once, outputs "
        "straight back): auto (when a model runs on CUDA), on, off.",
        choices=("auto", "on", "off"),
    )
    warm_up: bool = setting(
        True,
        "Run each model once at load so the first scene does not pay GPU set-up "
        "(start-up takes longer instead).",
    )
    hardware_decode: str = setting(
        "auto",
        "Decode video on the GPU (NVDEC): auto (when a CUDA device opens and the codec has a "
        "hardware decoder, else software), cuda (the same, but warn on fallback), off. Each "
        "scene pays about 0.3 s of decoder set-up; many-core CPUs can be faster.",
        choices=("auto", "cuda", "off"),
    )


@dataclass(frozen=True)
class EngineConfig:
    """How identifications run: pipelined across scenes, or one scene at a time."""

    mode: str = setting(
        "auto",
        "pipelined: decode in worker processes while the models run on batches gathered from "
        "many scenes (fast on backlogs when inference leaves cores free); sequential: one scene "
        "at a time, stage after stage; auto: pipelined with a GPU or 4+ cores, else sequential.",
        choices=("auto", "pipelined", "sequential"),
    )
    decode_workers: int = setting(
        0, "Processes that decode frames; 0: one per CPU core less one (at least 1).", min=0, max=64
    )
    scenes_in_flight: int = setting(
        0,
        "Scenes the engine takes at once (identify jobs running together); 0: 2 per decode "
        "worker plus 4.",
        min=0,
        max=512,
    )
    detect_batch: int = setting(
        0,
        "Frames per detector call when the model takes a batch; 0: 16 on a GPU, 1 on the CPU.",
        min=0,
        max=256,
    )
    embed_batch: int = setting(
        0,
        "Faces per embedder call, gathered across scenes; 0: 128 on a GPU, "
        "faces.embedding_batch_size on the CPU.",
        min=0,
        max=1024,
    )
    search_process: bool = setting(
        True,
        "Search the face database in a process of its own, so the other stages keep running "
        "(Voyager holds the GIL); costs a second copy of the indices in memory (~1.6 GB).",
    )


@dataclass(frozen=True)
class FaceDbConfig:
    """Where face-database releases and models are installed from."""

    source: str = setting(
        "github:carrotwaxr/stash-sense-data",
        "Release source: github:<owner>/<repo> (latest vYYYY.MM.DD tag, first .zip asset), "
        "an http(s) URL of a release zip, or a local zip or unpacked folder.",
        path=True,
    )
    github_api_url: str = setting(
        "https://api.github.com", "GitHub API base URL for github: sources.", url=True
    )
    models_source: str = setting(
        "",
        "Model source: empty for the public downloads, else an http(s) base URL, a local "
        "folder, or a zip (local or http) holding the three .onnx files.",
        path=True,
    )
    check_interval_hours: float = setting(
        0.0,
        "How often to look for a newer release (0: never; the UI can still ask).",
        min=0,
        max=8760,
    )
    download_attempts: int = setting(
        3, "Tries per download; each try resumes the partial file.", min=1, max=20
    )
    timeout_seconds: float = setting(
        60.0, "Longest wait for the server to connect or send data.", min=1, max=3600
    )


@dataclass(frozen=True)
class TaggingConfig:
    """What happens with identifications: apply, ask, or only record."""

    mode: str = setting(
        "review",
        "review: nothing is written without a person's accept; auto: apply confident "
        "matches, queue the rest; dry-run: compute and queue, never write.",
        choices=("review", "auto", "dry-run"),
    )
    auto_min_confidence: float | str = setting(
        0.75,
        'In auto mode, matches at least this confident are applied; "calibrated": use the '
        "threshold recorded by the latest applied evaluation (stash-sense evaluate --apply).",
        min=0,
        max=1,
        choices=(CALIBRATED,),
    )
    fallback_min_confidence: float = setting(
        0.75,
        'The auto_min_confidence used while it is "calibrated" and no calibration exists yet.',
        min=0,
        max=1,
    )
    target_precision: float = setting(
        0.95,
        "Evaluation recommends the threshold that keeps at least this precision.",
        min=0.5,
        max=1,
    )
    auto_min_frames: int = setting(
        3, "In auto mode, and seen in at least this many distinct frames.", min=1, max=1000
    )
    review_min_confidence: float = setting(
        0.3, "Matches below this confidence are not suggested at all.", min=0, max=1
    )
    marker_tags: bool = setting(False, "Write marker tags to identified scenes.")
    tag_identified: str = setting(
        "Stash Sense: identified", "Marker tag for scenes with an applied performer."
    )
    tag_needs_review: str = setting(
        "Stash Sense: needs review", "Marker tag for scenes with pending suggestions."
    )
    tag_no_faces: str = setting(
        "Stash Sense: no faces", "Marker tag for scenes in which no face was found."
    )
    performer_cache_seconds: float = setting(
        3600.0,
        "How long a stash-box id to local performer lookup is cached.",
        min=0,
        max=604_800,
    )


@dataclass(frozen=True)
class StashBoxConfig:
    """Calls to stash-box endpoints (StashDB and others configured in Stash)."""

    requests_per_minute: float = setting(
        240.0,
        "Rate limit per endpoint (Stash's own setting wins when lower).",
        min=1,
        max=100_000,
    )
    timeout_seconds: float = setting(30.0, "Timeout of one stash-box request.", min=1, max=600)
    max_retries: int = setting(3, "Retries on transient errors.", min=0, max=20)
    disabled_endpoints: list[str] = setting(
        [], "Endpoints (URL or domain, e.g. fansdb.cc) never called or suggested."
    )
    endpoint_domains: list[str] = setting(
        [],
        "Face-database domain to endpoint URL when the hosts differ, e.g. "
        '"stashdb.org=http://proxy:8080/graphql".',
    )


@dataclass(frozen=True)
class AnalyzersConfig:
    """Library-wide analyzers (duplicates, upstream changes) and their schedules."""

    schedules: list[str] = setting(
        [],
        'Schedule per analyzer, overriding its default: "name=interval:24h" (h, m or s) or '
        '"name=cron:0 3 * * *" (local time).',
    )
    disabled: list[str] = setting([], "Analyzers that never run on a schedule (by name).")
    start_delay_seconds: float = setting(
        60.0,
        "Analyzers overdue at start-up (or never run) fire this long after the daemon starts.",
        min=0,
        max=86_400,
    )
    misfire_grace_seconds: int = setting(
        3600,
        "A run missed by up to this long (daemon busy or asleep) still fires once, late.",
        min=1,
        max=604_800,
    )
    fingerprint_min_matches: int = setting(
        2, "Scene fingerprint match: fingerprints that must match a stash-box scene.", min=1, max=20
    )
    fingerprint_min_percent: float = setting(
        66.0,
        "Scene fingerprint match: share of the scene's fingerprints that must match.",
        min=0,
        max=100,
    )
    fingerprint_max_duration_diff: float = setting(
        5.0, "Scene fingerprint match: largest duration difference in seconds.", min=0, max=600
    )
    upstream_ignored_fields: list[str] = setting(
        [],
        'Upstream changes never proposed, as "entity.field", e.g. "performer.height".',
        choices=UPSTREAM_FIELD_NAMES,
    )
    endpoint_priorities: list[str] = setting(
        [],
        "Stash-box endpoints (URL or domain), preferred first: an entity linked to several "
        "is compared with the first only.",
    )


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus metrics at /metrics."""

    enabled: bool = setting(
        True,
        "Serve /metrics: on the API (bearer token required, as on every route), and on the"
        " separate listener when a port is set.",
    )
    host: str = setting("127.0.0.1", "Address of the separate metrics listener (see port).")
    port: int = setting(
        0,
        "Port of a separate listener serving only /metrics WITHOUT any token, for a scraper"
        " on a private network; 0: none.",
        min=0,
        max=65535,
    )


@dataclass(frozen=True)
class Config:
    """Every setting of the daemon."""

    server: ServerConfig = section(ServerConfig, "HTTP API.")
    stash: StashConfig = section(StashConfig, "Connection to Stash.")
    paths: PathsConfig = section(PathsConfig, "Files and folders.")
    log: LogConfig = section(LogConfig, "Logging.")
    store: StoreConfig = section(StoreConfig, "SQLite store.")
    queue: QueueConfig = section(QueueConfig, "Durable job queue.")
    events: EventsConfig = section(EventsConfig, "Stash events, subscriptions and reconciliation.")
    faces: FacesConfig = section(FacesConfig, "Face identification.")
    engine: EngineConfig = section(EngineConfig, "How identifications run.")
    facedb: FaceDbConfig = section(FaceDbConfig, "Installing and updating the face database.")
    tagging: TaggingConfig = section(TaggingConfig, "Applying matches and suggesting the rest.")
    stashbox: StashBoxConfig = section(StashBoxConfig, "Stash-box endpoints.")
    analyzers: AnalyzersConfig = section(AnalyzersConfig, "Scheduled library analyzers.")
    metrics: MetricsConfig = section(MetricsConfig, "Prometheus metrics.")
