"""``FakeStash``: an aiohttp server on loopback that behaves like Stash for our purposes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from inspect import isawaitable
from types import TracebackType
from typing import Any, Self

from aiohttp import hdrs, web
from graphql import (
    DocumentNode,
    Executor,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from .faults import Faults
from .hooks import HookDispatcher, HookListener, ServerConnection
from .jobs import LOGGING, SCAN_COMPLETE, Job, JobManager, JobProgress, PubSub
from .library import Library, Scene
from .resolvers import DEFAULT_SDL, RequestContext, build_fake_schema
from .ui import UiHost
from .websocket import WsConnection, negotiate

__all__ = ["FakeStash", "Prepared", "RecordedCall", "RequestErrors"]

JobWork = Callable[[JobProgress], Awaitable[None]]


@dataclass
class RecordedCall:
    """One GraphQL operation the fake received (HTTP request or websocket operation)."""

    operation_name: str | None
    kind: str | None  # "query" | "mutation" | "subscription"; None if unparsable
    variables: dict[str, Any]
    query: str
    transport: str  # "http" | "ws"
    api_key: str | None  # the key the request carried (header or ?apikey=)
    headers: dict[str, str]
    timestamp: float = field(default_factory=time.time)

    @property
    def api_key_sent(self) -> bool:
        """Return whether the request carried an API key."""
        return bool(self.api_key)


@dataclass
class Prepared:
    """A parsed and validated request, ready to execute."""

    document: DocumentNode
    operation: OperationDefinitionNode
    operation_name: str | None
    variables: dict[str, Any]
    context: RequestContext


RequestErrors = list[dict[str, Any]]

_DEFAULT_PERFORMER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 40">'
    '<rect width="30" height="40" fill="#5c7080"/><circle cx="15" cy="14" r="7" fill="#bfccd6"/>'
    '<ellipse cx="15" cy="36" rx="12" ry="10" fill="#bfccd6"/></svg>'
)


_RECORDED_HEADERS = ("User-Agent", "Content-Type", "Origin", "Sec-WebSocket-Protocol")


def _request_errors(errors: Iterable[GraphQLError], code: str) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        formatted: dict[str, Any] = dict(error.formatted)
        # gqlgen tags parse/validation failures with an extension code.
        formatted["extensions"] = {**(error.extensions or {}), "code": code}
        out.append(formatted)
    return out


class FakeStash:
    """A fake Stash server: GraphQL (HTTP + websockets), hooks, jobs, stream, faults."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        username: str = "stash",
        sdl: str | None = None,
        library: Library | None = None,
        tz_offset: str = "+02:00",
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ws_keepalive_s: float = 10.0,
        ws_pong_interval_s: float | None = None,
        hooks_enabled: bool = True,
        version: str = "v0.30.1",
        version_hash: str = "cf3489e",
        app_schema: int = 75,
        config_dir: str = "/root/.stash",
        plugin_dir: str = "/root/.stash/plugins/stash-sense",
        delete_files_on_disk: bool = False,
    ) -> None:
        """Configure the fake; nothing listens until ``start()`` / ``async with``.

        ``ws_keepalive_s`` is gqlgen's KeepAlivePingInterval (``ka`` frames, graphql-ws
        only); ``ws_pong_interval_s`` enables unsolicited ``pong`` frames on
        graphql-transport-ws, which Stash does not send.
        """
        self.api_key = api_key
        self.username = username
        self.sdl = sdl if sdl is not None else DEFAULT_SDL
        self.schema: GraphQLSchema = build_fake_schema(self.sdl)
        self.library = library or Library(tz_offset=tz_offset, clock=clock)
        self.host = host
        self._requested_port = port
        self.ws_keepalive_s = ws_keepalive_s
        self.ws_pong_interval_s = ws_pong_interval_s
        self.version = version
        self.version_hash = version_hash
        self.app_schema = app_schema
        self.config_dir = config_dir
        self.plugin_dir = plugin_dir
        self.delete_files_on_disk = delete_files_on_disk
        self.session_cookie = secrets.token_urlsafe(16)
        self.calls: list[RecordedCall] = []
        self.faults = Faults()
        self.pubsub = PubSub()
        self.jobs = JobManager(self.pubsub, lambda: self.library.now(precise=True))
        self.hooks = HookDispatcher(self._server_connection)
        self.hooks.enabled = hooks_enabled
        self.pending_scan_scenes: list[dict[str, Any]] = []
        self.websockets: set[WsConnection] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # Set to serve Stash's UI page (with a plugin) at `/`, for browser tests.
        self.ui: UiHost | None = None

    # ------------------------------------------------------------ properties

    @property
    def port(self) -> int:
        """Return the bound port (after start)."""
        if self._port is None:
            raise RuntimeError("FakeStash is not started")
        return self._port

    @property
    def url(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        """Return the GraphQL endpoint URL."""
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        """Return the websocket endpoint URL."""
        return f"ws://{self.host}:{self.port}/graphql"

    @property
    def hook_listeners(self) -> list[HookListener]:
        """Return the mutable list of hook listeners."""
        return self.hooks.listeners

    @property
    def hooks_enabled(self) -> bool:
        """Return whether hooks fire."""
        return self.hooks.enabled

    @hooks_enabled.setter
    def hooks_enabled(self, value: bool) -> None:
        self.hooks.enabled = value

    def _server_connection(self) -> ServerConnection:
        return ServerConnection(
            port=self._port or 0,
            session_cookie=self.session_cookie,
            dir=self.config_dir,
            plugin_dir=self.plugin_dir,
        )

    def base_url_for(self, request: web.Request) -> str:
        """Return ``scheme://<request Host>`` like Stash's URL builders."""
        return f"{request.scheme}://{request.host}"

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        """Bind to ``host`` (a free port unless one was given) and serve."""
        app = web.Application(middlewares=[self._fault_middleware, self._auth_middleware])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_route("*", "/graphql", self._graphql)
        app.router.add_get("/scene/{id}/stream", self._stream)
        app.router.add_get("/performer/{id}/image", self._image("performers"))
        app.router.add_get("/tag/{id}/image", self._image("tags"))
        app.router.add_get("/studio/{id}/image", self._image("studios"))
        app.router.add_get("/host/{path:.+}", self._ui_route("serve_host_file"))
        app.router.add_get("/plugin/stash-sense/{path:.+}", self._ui_route("serve_plugin_file"))
        app.router.add_get("/favicon.ico", self._healthz)
        # Stash answers every other path with its single-page app.
        app.router.add_get("/{tail:.*}", self._ui_route("serve_page"))
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._requested_port).start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close websockets, cancel jobs and stop serving."""
        for conn in list(self.websockets):
            with contextlib.suppress(Exception):
                await conn.close(1001, "going away")
        await self.jobs.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    # ------------------------------------------------------------ middlewares

    @web.middleware
    async def _fault_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        for fault in self.faults.take():
            if fault.kind == "latency":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "drop":
                if request.transport is not None:
                    request.transport.abort()
                # aiohttp discards a response written to an aborted transport.
                return web.Response(status=599)
            elif fault.kind == "http_error":
                return web.Response(status=fault.status, text=fault.body)
        return await handler(request)

    def presented_key(self, request: web.Request) -> str | None:
        """Return the API key a request carries: ``ApiKey`` header, else ``?apikey=``."""
        return request.headers.get("ApiKey") or request.query.get("apikey") or None

    def authorized(self, request: web.Request) -> bool:
        """Apply Stash's authentication rules to a request."""
        key = self.presented_key(request)
        if key is not None:
            # A key is checked even when none is configured: it can never match then.
            return self.api_key is not None and secrets.compare_digest(key, self.api_key)
        if self.api_key is None:
            return True
        return request.cookies.get("session") == self.session_cookie

    @web.middleware
    async def _auth_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != "/healthz" and not self.authorized(request):
            return web.Response(status=401, headers={"WWW-Authenticate": "FormBased"})
        return await handler(request)

    # ------------------------------------------------------------ graphql

    def _record(
        self,
        query: str,
        variables: dict[str, Any],
        operation_name: str | None,
        *,
        operation: OperationDefinitionNode | None,
        transport: str,
        request: web.Request,
    ) -> None:
        name = operation_name
        if name is None and operation is not None and operation.name is not None:
            name = operation.name.value
        self.calls.append(
            RecordedCall(
                operation_name=name,
                kind=operation.operation.value if operation is not None else None,
                variables=dict(variables),
                query=query,
                transport=transport,
                api_key=self.presented_key(request),
                headers={h: request.headers[h] for h in _RECORDED_HEADERS if h in request.headers},
            )
        )

    def prepare(
        self,
        query: Any,
        variables: Any,
        operation_name: Any,
        *,
        context: RequestContext,
        transport: str,
        request: web.Request,
    ) -> Prepared | RequestErrors:
        """Record, parse and validate a request; return it, or its request errors."""
        text = query if isinstance(query, str) else ""
        var_values = variables if isinstance(variables, dict) else {}
        op_name = operation_name if isinstance(operation_name, str) and operation_name else None
        operation: OperationDefinitionNode | None = None
        try:
            if not text:
                raise GraphQLError("no operation provided")
            document = parse(text)
        except GraphQLError as exc:
            self._record(
                text, var_values, op_name, operation=None, transport=transport, request=request
            )
            return _request_errors([exc], "GRAPHQL_PARSE_FAILED")
        operation = get_operation_ast(document, op_name)
        self._record(
            text, var_values, op_name, operation=operation, transport=transport, request=request
        )
        problems = validate(self.schema, document)
        if not problems:
            built = Executor.build(self.schema, document, None, context, var_values, op_name)
            if isinstance(built, list):
                problems = built
        if problems or operation is None:
            return _request_errors(problems, "GRAPHQL_VALIDATION_FAILED")
        return Prepared(document, operation, op_name, var_values, context)

    async def execute_prepared(self, prepared: Prepared) -> Any:
        """Execute a prepared query or mutation and return the ExecutionResult."""
        result = execute(
            self.schema,
            prepared.document,
            context_value=prepared.context,
            variable_values=prepared.variables,
            operation_name=prepared.operation_name,
        )
        if isawaitable(result):
            result = await result
        return result

    async def _graphql(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
            return await self._websocket(request)
        if request.method != "POST" or request.content_type != "application/json":
            # Only the POST and websocket transports are implemented.
            return web.json_response(
                {"errors": [{"message": "transport not supported"}], "data": None}, status=400
            )
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
        except (ValueError, TypeError) as exc:
            return web.json_response(
                {
                    "errors": [{"message": f"json request body could not be decoded: {exc}"}],
                    "data": None,
                },
                status=400,
            )
        context = RequestContext(self, self.base_url_for(request))
        prepared = self.prepare(
            body.get("query"),
            body.get("variables"),
            body.get("operationName"),
            context=context,
            transport="http",
            request=request,
        )
        if isinstance(prepared, list):
            # gqlgen answers parse/validation failures with 422 Unprocessable Entity.
            return web.json_response({"errors": prepared, "data": None}, status=422)
        if prepared.operation.operation == OperationType.SUBSCRIPTION:
            return web.json_response(
                {
                    "errors": [{"message": "subscriptions need the websocket transport"}],
                    "data": None,
                },
                status=422,
            )
        result = await self.execute_prepared(prepared)
        return web.json_response(result.formatted)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        offered = [
            p.strip()
            for p in request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "").split(",")
            if p.strip()
        ]
        protocol = negotiate(offered)
        ws = web.WebSocketResponse(protocols=(protocol,) if protocol else ())
        await ws.prepare(request)
        conn = WsConnection(self, request, ws, protocol)
        self.websockets.add(conn)
        try:
            await conn.run()
        finally:
            self.websockets.discard(conn)
        return ws

    async def drop_websockets(self) -> None:
        """Abort every websocket's TCP connection without a close frame."""
        for conn in list(self.websockets):
            conn.abort()
        # Let the handlers notice and clean up.
        for _ in range(50):
            if not self.websockets:
                break
            await asyncio.sleep(0.01)

    async def wait_for_subscribers(
        self, field_name: str = "jobsSubscribe", count: int = 1, timeout: float = 5.0
    ) -> None:
        """Wait until ``count`` clients subscribe to a Subscription field."""
        topic = {
            "jobsSubscribe": "jobs",
            "scanCompleteSubscribe": SCAN_COMPLETE,
            "loggingSubscribe": LOGGING,
        }[field_name]
        await self.pubsub.wait_for(topic, count, timeout)

    # ------------------------------------------------------------ other routes

    def _ui_route(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            if self.ui is None:
                raise web.HTTPNotFound
            result: web.StreamResponse = await getattr(self.ui, name)(request)
            return result

        return handler

    async def _healthz(self, _request: web.Request) -> web.StreamResponse:
        return web.Response(text=".")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        try:
            scene = self.library.scenes.get(int(request.match_info["id"]))
        except ValueError:
            scene = None
        primary = scene.primary_file if scene is not None else None
        if primary is None or not await asyncio.to_thread(os.path.isfile, primary.path):
            raise web.HTTPNotFound
        # FileResponse answers Range requests with 206 and Accept-Ranges.
        return web.FileResponse(primary.path)

    def _image(self, collection: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            table: Mapping[int, Any] = getattr(self.library, collection)
            try:
                obj = table.get(int(request.match_info["id"]))
            except ValueError:
                obj = None
            image = getattr(obj, "image", None)
            if (
                obj is not None
                and collection == "performers"
                and not (isinstance(image, str) and image.startswith("data:"))
            ):
                # Stash answers a performer without an image with its default picture.
                return web.Response(text=_DEFAULT_PERFORMER_SVG, content_type="image/svg+xml")
            if not isinstance(image, str) or not image.startswith("data:"):
                raise web.HTTPNotFound
            header, _, data = image.partition(",")
            mime = header[5:].split(";")[0] or "application/octet-stream"
            return web.Response(body=base64.b64decode(data), content_type=mime)

        return handler

    # ------------------------------------------------------------ jobs, scans, logs

    def log(self, level: str, message: str) -> None:
        """Publish one ``loggingSubscribe`` entry (level: Trace/Debug/Info/...)."""
        entry = {"time": self.library.now(precise=True), "level": level, "message": message}
        self.pubsub.publish(LOGGING, [entry])

    def emit_scan_complete(self) -> None:
        """Publish ``scanCompleteSubscribe: true``."""
        self.pubsub.publish(SCAN_COMPLETE, True)

    def start_job(
        self, description: str, work: JobWork | None = None, *, duration_s: float = 0.0
    ) -> Job:
        """Queue a job and return it at once (``work`` defaults to sleeping)."""

        async def sleep(progress: JobProgress) -> None:
            await asyncio.sleep(duration_s)
            progress.set(1.0)

        return self.jobs.start(description, work or sleep)

    async def run_job(
        self, description: str, work: JobWork | None = None, *, duration_s: float = 0.0
    ) -> Job:
        """Queue a job and wait until it is done (ADD, UPDATE RUNNING, ..., REMOVE)."""
        job = self.start_job(description, work, duration_s=duration_s)
        await self.jobs.wait(job.id)
        return job

    def _scan_work(
        self,
        specs: list[dict[str, Any]],
        created: list[Scene],
        *,
        hooks: bool,
        delay_s: float,
        generate_phashes: bool,
    ) -> JobWork:
        async def work(progress: JobProgress) -> None:
            start = time.monotonic()
            for index, spec in enumerate(specs):
                if delay_s:
                    await asyncio.sleep(delay_s)
                fields = dict(spec)
                # Stash computes the phash after the Create hook: the hook never sees it.
                fields["pending_phash"] = fields.pop("phash", None)
                scene = self.library.add_scene(**fields)
                created.append(scene)
                path = scene.primary_file.path if scene.primary_file else "?"
                self.log("Info", f"{path} doesn't exist. Creating new scene...")
                if hooks:
                    await self.hooks.fire("Scene.Create.Post", scene.id)
                progress.set((index + 1) / len(specs))
            if generate_phashes:
                for scene in created:
                    for f in scene.files:
                        if f.phash is None:
                            f.phash = self.library.derived_phash(f)
            self.log("Info", f"Scan finished ({time.monotonic() - start:.3f}s)")
            # The scan job notifies scanComplete itself, before the manager's REMOVE.
            self.emit_scan_complete()

        return work

    async def simulate_scan(
        self,
        new_scenes: list[dict[str, Any]],
        *,
        hooks: bool = True,
        delay_s: float = 0.0,
        generate_phashes: bool = True,
    ) -> list[Scene]:
        """Run a "Scanning..." job that adds ``new_scenes`` (``add_scene`` keywords).

        Events: jobs ADD (READY), UPDATE (RUNNING), one progress UPDATE per scene with
        a ``Scene.Create.Post`` hook (input null) each, phash generation,
        ``scanCompleteSubscribe: true``, then REMOVE (FINISHED, endTime).
        """
        created: list[Scene] = []
        job = await self.run_job(
            "Scanning...",
            self._scan_work(
                list(new_scenes),
                created,
                hooks=hooks,
                delay_s=delay_s,
                generate_phashes=generate_phashes,
            ),
        )
        if job.status == "FAILED":
            raise RuntimeError(f"simulated scan failed: {job.error}")
        return created

    def start_scan(self, scan_input: Mapping[str, Any]) -> Job:
        """Start a scan of ``pending_scan_scenes`` (as ``metadataScan`` does); return its job."""
        paths = scan_input.get("paths")
        taken = [
            s
            for s in self.pending_scan_scenes
            if not paths or any(str(s.get("path", "")).startswith(p) for p in paths)
        ]
        self.pending_scan_scenes = [s for s in self.pending_scan_scenes if s not in taken]
        created: list[Scene] = []
        return self.jobs.start(
            "Scanning...",
            self._scan_work(
                taken,
                created,
                hooks=True,
                delay_s=0.0,
                generate_phashes=bool(scan_input.get("scanGeneratePhashes")),
            ),
        )

    def start_generate(self, generate_input: Mapping[str, Any]) -> Job:
        """Start a "Generating..." job; only phash generation changes the library."""
        ids = generate_input.get("sceneIDs")

        async def work(progress: JobProgress) -> None:
            scenes = (
                [self.library.scenes[int(i)] for i in ids if int(i) in self.library.scenes]
                if ids is not None
                else list(self.library.scenes.values())
            )
            if generate_input.get("phashes"):
                for scene in scenes:
                    for f in scene.files:
                        if f.phash is None or generate_input.get("overwrite"):
                            f.phash = self.library.derived_phash(f)
            progress.set(1.0)

        return self.jobs.start("Generating...", work)

    def delete_files(self, paths: Iterable[str]) -> None:
        """Record deleted files; remove them from disk only if ``delete_files_on_disk``."""
        for path in paths:
            self.library.deleted_files.append(path)
            if self.delete_files_on_disk and os.path.isfile(path):
                os.remove(path)
