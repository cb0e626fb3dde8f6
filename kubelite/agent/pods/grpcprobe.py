"""gRPC probes: grpc.health.v1.Health/Check on the pod IP, with upstream's outputs.

grpcio cannot use a socket made in another network namespace, so the probe dials the pod first
(kubelite.agent.network.nsconnect, as the other probes do) and gives the channel a one-off relay on
127.0.0.1 that splices that connection (and any reconnect) through. The two tiny messages of the health
protocol are encoded by hand rather than pulling in generated stubs.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kubelite.agent.pods.actions import Connect, Streams, connect

CHECK = "/grpc.health.v1.Health/Check"
_STATUSES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def encode_request(service: str) -> bytes:
    """HealthCheckRequest{service = 1}."""
    data = service.encode()
    return b"\x0a" + _varint(len(data)) + data if data else b""


def decode_status(message: bytes) -> int:
    """HealthCheckResponse.status (field 1, an enum); 0 when absent. Other fields are skipped."""
    position, status = 0, 0
    while position < len(message):
        key, position = _read_varint(message, position)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _read_varint(message, position)
            if field == 1:
                status = value
        elif wire == 2:
            length, position = _read_varint(message, position)
            position += length
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return status


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def _duration(seconds: float) -> str:
    """Go's time.Duration spelling for whole and fractional seconds ("1s", "1.5s", "500ms")."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    return f"{seconds:g}s"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def grpc_check(
    netns_path: str | None,
    host: str,
    port: int,
    service: str,
    seconds: float,
    connect_to: Connect = connect,
) -> tuple[bool, str]:
    """(healthy, output) as upstream's gRPC prober words them."""
    address = f"{host}:{port}"
    try:
        first: Streams | None = await connect_to(netns_path, host, port, seconds)
    except (OSError, TimeoutError):
        return False, (
            f'timeout: failed to connect service "{address}" within {_duration(seconds)}: '
            "context deadline exceeded"
        )

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal first
        upstream, first = first, None
        try:
            if upstream is None:
                upstream = await connect_to(netns_path, host, port, seconds)
        except (OSError, TimeoutError):
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream[1]), _pipe(upstream[0], writer))

    # grpcio costs an agent ~20 MB of memory: only nodes that run gRPC probes load it.
    import grpc  # type: ignore[import-untyped]
    import grpc.aio  # type: ignore[import-untyped]

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    local_port = server.sockets[0].getsockname()[1]
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{local_port}", options=[("grpc.default_authority", address)]
        ) as channel:
            check = channel.unary_unary(
                CHECK, request_serializer=encode_request, response_deserializer=decode_status
            )
            status: int = await check(service, timeout=seconds)
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
            return False, (
                "this server does not implement the grpc health protocol (grpc.health.v1.Health): "
                f"{exc.details()}"
            )
        if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return False, f"timeout: health rpc did not complete within {_duration(seconds)}"
        return False, f"error: health rpc probe failed: rpc error: code = {_code(exc)} desc = {exc.details()}"
    finally:
        server.close()
        if first is not None:  # never used: the channel failed before connecting
            first[1].close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
    if status != 1:
        return False, f'service unhealthy (responded with "{_STATUSES.get(status, str(status))}")'
    return True, "service healthy"


def _code(exc: Any) -> str:
    """grpc-go's code names are CamelCase: NOT_FOUND -> NotFound."""
    return "".join(part.capitalize() for part in exc.code().name.split("_"))
