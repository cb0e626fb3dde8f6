"""Reading request bodies and writing JSON responses.

Bodies may be JSON, YAML (no Content-Type means JSON) or, for whole objects, Kubernetes protobuf (what typed
client-go clientsets such as kubectl's `create deployment` send); at most 3 MiB; anything else is a 4xx
Status, never a 500. Responses are always JSON via orjson, which clients that asked for protobuf accept.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from aiohttp import web

from kubelite.apiserver import apiwarnings, errors, protobuf

MAX_BODY_BYTES = 3 * 1024 * 1024
JSON = "application/json"
YAML = "application/yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = protobuf.MEDIA_TYPE
PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that keeps timestamps as strings (Kubernetes reads YAML as JSON, never as datetimes)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def media_type(request: web.Request) -> str:
    """The Content-Type without parameters, lower-cased; JSON when absent."""
    raw = request.headers.get("Content-Type", "")
    return raw.split(";", 1)[0].strip().lower() or JSON


async def read_raw(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise errors.too_large(MAX_BODY_BYTES)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise errors.too_large(MAX_BODY_BYTES)
        chunks.append(chunk)
    return b"".join(chunks)


def decode(raw: bytes, content_type: str) -> Any:
    """JSON, YAML or protobuf into Python values; a syntax error is a 400."""
    if not raw.strip():
        raise errors.bad_request("the request body is empty")
    if content_type == PROTOBUF:
        return decode_protobuf(raw, field_validation="Warn")
    if content_type.endswith("yaml"):
        try:
            return yaml.load(raw, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {_first_line(exc)}") from exc
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # Tolerate YAML sent without its Content-Type, as upstream's decoder does.
        try:
            return yaml.load(raw, Loader=_Loader)
        except yaml.YAMLError:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def decode_protobuf(raw: bytes, *, field_validation: str) -> dict[str, Any]:
    """A protobuf object; fields it has that kubelite does not know are judged as in JSON bodies: a 400 under
    fieldValidation=Strict, Warning headers under Warn, dropped under Ignore."""
    try:
        decoded = protobuf.decode(raw)
    except protobuf.UnsupportedKind as exc:
        raise errors.ApiError(
            415,
            "UnsupportedMediaType",
            f"the server cannot decode {exc} from protobuf; send it as {JSON}",
            {"causes": [{"reason": "UnexpectedServerResponse", "message": PROTOBUF}]},
        ) from exc
    except protobuf.ProtobufError as exc:
        raise errors.bad_request(f"unable to decode the protobuf body: {exc}") from exc
    unknown = [f'unknown field "{path}"' for path in decoded.unknown_fields]
    if unknown and field_validation == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(unknown))
    if field_validation == "Warn":
        for message in unknown:
            apiwarnings.add(message)
    return decoded.obj


async def read_object(request: web.Request) -> dict[str, Any]:
    """A body that must be a single object (create, update)."""
    content_type = media_type(request)
    if content_type == PROTOBUF:
        raw = await read_raw(request)
        if not raw:
            raise errors.bad_request("the request body is empty")
        return decode_protobuf(raw, field_validation=request.query.get("fieldValidation") or "Warn")
    if content_type not in (JSON, YAML, "application/x-yaml", "text/yaml", "*/*"):
        raise errors.unsupported_media_type(content_type, [JSON, YAML, PROTOBUF])
    value = decode(await read_raw(request), content_type)
    if not isinstance(value, dict):
        raise errors.bad_request(f"the request body must be an object, not {type(value).__name__}")
    return value


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def json_response(value: Any, *, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=orjson.dumps(value), status=status, headers={"Content-Type": content_type})


def status_response(error: errors.ApiError) -> web.Response:
    return json_response(error.status(), status=error.code)
