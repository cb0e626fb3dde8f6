"""OpenAPI endpoints: /openapi/v3 (index), /openapi/v3/<group-version>?hash=..., /openapi/v2.

The documents come from the shared schemas (kubelite.api.schema.openapi), built once per process. kubectl
needs them for create/apply (to learn that the server validates fields) and for explain. For kinds missing
from v3 it falls back to v2 and accepts only gnostic's protobuf encoding there.
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api.schema import openapi, openapi_v2_proto
from kubelite.apiserver import errors

# kubectl asks for application/com.github.proto-openapi.spec.v2@v1.0+protobuf (older clients: .v2.v1.0).
_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2"


def _serve(
    document: openapi.Document,
    request: web.Request,
    *,
    immutable: bool,
    content_type: str = "application/json",
) -> web.Response:
    headers = {"Content-Type": content_type, "ETag": f'"{document.hash}"'}
    if immutable and request.query.get("hash") == document.hash:
        # The URL names the content: clients may cache it for good.
        headers["Cache-Control"] = "public, immutable"
    else:
        headers["Cache-Control"] = "no-cache, private"
    return web.Response(body=document.body, headers=headers)


async def v3_index(request: web.Request) -> web.StreamResponse:
    return _serve(openapi.v3_index(), request, immutable=False)


async def v3_group_version(request: web.Request) -> web.StreamResponse:
    document = openapi.v3_document(request.match_info["path"].strip("/"))
    if document is None:
        raise errors.path_not_found()
    return _serve(document, request, immutable=True)


async def v2(request: web.Request) -> web.StreamResponse:
    if _V2_PROTOBUF in request.headers.get("Accept", ""):
        # Upstream answers octet-stream: kubectl cannot parse the requested type (it contains "@") back.
        document = openapi_v2_proto.v2_protobuf_document()
        response = _serve(document, request, immutable=False, content_type="application/octet-stream")
    else:
        response = _serve(openapi.v2_document(), request, immutable=False)
    response.headers["Vary"] = "Accept"
    return response


ROUTES = [
    web.get("/openapi/v3", v3_index),
    web.get("/openapi/v3/{path:.+}", v3_group_version),
    web.get("/openapi/v2", v2),
]
