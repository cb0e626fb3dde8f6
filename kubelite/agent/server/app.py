"""The node agent's HTTPS port, kubelet-style: container logs, exec, attach, port-forward and /healthz.

Only the API server talks to it: TLS demands a client certificate issued by the cluster CA. Containers are
found by namespace/pod/name in the runtime's list, newest attempt first (`previous` means the one before).
exec runs the runtime's exec command line; attach goes through the monitor's attach socket in the bundle
(`<containers>/<id>/attach`, conmon's); port-forward connects inside the pod's network namespace.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
from collections.abc import Sequence

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from kubelite.agent.network.nsconnect import open_connection_in_netns
from kubelite.agent.network.types import PodNetwork
from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.types import ContainerState, Runtime, Status
from kubelite.agent.server import channels, logs, portforward, tls
from kubelite.agent.server.attach import run_attach
from kubelite.agent.server.exec import ExecOptions, run_exec

CONNECT_TIMEOUT = 5.0


class StreamError(Exception):
    """Answered as a metav1.Status, which the API server relays and kubectl shows."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason

    def response(self) -> web.Response:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": str(self),
            "reason": self.reason,
            "code": self.code,
        }
        return web.Response(status=self.code, body=orjson.dumps(status), content_type="application/json")


@web.middleware
async def _statuses(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StreamError as exc:
        return exc.response()


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true", "yes")


def _int(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise StreamError(400, "BadRequest", f"{name} must be an integer, not {text!r}") from None


class AgentServer:
    def __init__(
        self,
        paths: NodePaths,
        runtime: Runtime,
        network: PodNetwork,
        *,
        ca_pem: bytes,
        bind: str,
        port: int,
        names: Sequence[str] = (),
    ) -> None:
        self.paths, self.runtime, self.network = paths, runtime, network
        self._ca_pem, self._bind, self.port = ca_pem, bind, port
        self._names = [bind, *names] if bind not in ("0.0.0.0", "::", "") else ["127.0.0.1", *names]
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_statuses])
        ns_pod = "/{namespace}/{pod}"
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/containerLogs" + ns_pod + "/{container}", self._logs)
        for verb in ("GET", "POST"):
            app.router.add_route(verb, "/exec" + ns_pod + "/{container}", self._exec)
            app.router.add_route(verb, "/attach" + ns_pod + "/{container}", self._attach)
            app.router.add_route(verb, "/portForward" + ns_pod, self._port_forward)
        return app

    async def start(self) -> None:
        """Listen (port 0 picks a free one, then `self.port` tells which)."""
        cert, key = await tls.ensure_serving_cert(self.paths.pki, self.paths.node_name, self._names)
        ssl_context = tls.server_context(cert, key, self._ca_pem)
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._bind, self.port, ssl_context=ssl_context)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _attempts(self, namespace: str, pod: str, container: str | None = None) -> list[ContainerState]:
        """The runs of a container (or of all the pod's), oldest first; of the newest pod by that name, when
        leftovers of a deleted one with the same name are still around."""
        found = [s for s in await self.runtime.list() if s.pod_namespace == namespace and s.pod_name == pod]
        if not found:
            return []
        uid = max(found, key=lambda s: s.created_at).pod_uid
        found = [s for s in found if s.pod_uid == uid and container in (None, s.name)]
        return sorted(found, key=lambda s: (s.attempt, s.created_at))

    async def _container(self, request: web.Request, *, previous: bool = False) -> ContainerState:
        ns, pod, name = (request.match_info[k] for k in ("namespace", "pod", "container"))
        attempts = await self._attempts(ns, pod, name)
        if previous:
            if len(attempts) < 2:
                raise StreamError(
                    400, "BadRequest", f'previous terminated container "{name}" in pod "{pod}" not found'
                )
            return attempts[-2]
        if not attempts:
            raise StreamError(404, "NotFound", f'container "{name}" in pod "{pod}" not found')
        return attempts[-1]

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        state = await self._container(request, previous=_flag(request, "previous"))
        since: datetime.datetime | None = None
        if (seconds := _int(request, "sinceSeconds")) is not None:
            since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds)
        elif text := request.query.get("sinceTime"):
            try:
                since = logs.parse_time(text)
            except ValueError:
                raise StreamError(400, "BadRequest", f"sinceTime {text!r} is not RFC 3339") from None
        opts = logs.LogOptions(
            follow=_flag(request, "follow"),
            tail_lines=_int(request, "tailLines"),
            since=since,
            timestamps=_flag(request, "timestamps"),
            limit_bytes=_int(request, "limitBytes"),
        )
        path = self.paths.container_log(
            state.pod_namespace, state.pod_name, state.pod_uid, state.name, state.attempt
        )

        async def running() -> bool:
            """Worth following on: the container runs and the client is still there."""
            if request.transport is None or request.transport.is_closing():
                return False
            current = await self.runtime.state(state.container_id)
            return current is not None and current.status != Status.EXITED

        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        try:
            async for line in logs.lines(path, opts, running):
                await response.write(line)
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away
        return response

    async def _websocket(self, request: web.Request, protocols: Sequence[str]) -> web.WebSocketResponse:
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        ws = web.WebSocketResponse(protocols=protocols, heartbeat=None, max_msg_size=0)
        if not ws.can_prepare(request).ok:
            raise StreamError(400, "BadRequest", "only WebSocket streams are served: upgrade to websocket")
        if not set(offered) & set(protocols):
            raise StreamError(
                400, "BadRequest", f"no supported subprotocol offered (want one of {list(protocols)})"
            )
        await ws.prepare(request)
        return ws

    async def _exec(self, request: web.Request) -> web.StreamResponse:
        state = await self._container(request)
        if state.status != Status.RUNNING:
            raise StreamError(400, "BadRequest", f"container {state.name} is not running")
        argv = request.query.getall("command", [])
        if not argv:
            raise StreamError(400, "BadRequest", "you must specify at least one command for the container")
        opts = self._stream_options(request)
        env = {"TERM": "xterm"} if opts.tty else {}
        cmd = self.runtime.exec_command(state.container_id, argv, tty=opts.tty, env=env)
        ws = await self._websocket(request, channels.PROTOCOLS)
        try:
            await run_exec(ws, cmd, opts)
        finally:
            await ws.close()
        return ws

    async def _attach(self, request: web.Request) -> web.StreamResponse:
        state = await self._container(request)
        if state.status != Status.RUNNING:
            raise StreamError(400, "BadRequest", f"container {state.name} is not running")
        bundle = self.paths.containers / state.container_id
        if not (bundle / "attach").exists():
            raise StreamError(
                400,
                "BadRequest",
                f"attach is not supported for container {state.name} in pod "
                f"{state.pod_namespace}/{state.pod_name}: its monitor has no attach socket",
            )
        ws = await self._websocket(request, channels.PROTOCOLS)
        try:
            await run_attach(ws, bundle, self._stream_options(request))
        finally:
            await ws.close()
        return ws

    async def _port_forward(self, request: web.Request) -> web.StreamResponse:
        ns, pod = request.match_info["namespace"], request.match_info["pod"]
        attempts = await self._attempts(ns, pod)
        if not attempts:
            raise StreamError(404, "NotFound", f'pod "{pod}" not found on this node')
        uid = attempts[-1].pod_uid
        netns = next((s.netns_path for s in await self.network.sandboxes() if s.pod_uid == uid), None)
        connect = functools.partial(self._connect, netns)
        describe = f"{ns}/{pod}, uid {uid}"
        ws = await self._websocket(request, portforward.PROTOCOLS)
        try:
            if ws.ws_protocol == portforward.SPDY_PROTOCOL:
                await portforward.SpdySession(ws, connect, describe).run()
            else:
                ports = self._ports(request)
                await portforward.serve_channels(ws, ports, connect, describe)
        finally:
            await ws.close()
        return ws

    @staticmethod
    def _stream_options(request: web.Request) -> ExecOptions:
        return ExecOptions(
            stdin=_flag(request, "stdin"),
            stdout=_flag(request, "stdout"),
            stderr=_flag(request, "stderr"),
            tty=_flag(request, "tty"),
        )

    @staticmethod
    def _ports(request: web.Request) -> list[int]:
        ports: list[int] = []
        for value in request.query.getall("ports", []):
            ports += [int(p) for p in value.split(",") if p.strip().isdigit()]
        return ports

    @staticmethod
    async def _connect(netns: str | None, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if netns is None:  # a hostNetwork pod: its ports are the node's
            async with asyncio.timeout(CONNECT_TIMEOUT):
                return await asyncio.open_connection("127.0.0.1", port)
        return await open_connection_in_netns(netns, "127.0.0.1", port, CONNECT_TIMEOUT)
