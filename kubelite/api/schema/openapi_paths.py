"""The `paths` of the OpenAPI documents: the REST operations of every resource, for v2 and v3 alike.

Operations are first described neutrally (`Operation`), then rendered in either dialect. What matters to
kubectl: every patch operation names its kind in x-kubernetes-group-version-kind and lists the
fieldValidation query parameter, which tells kubectl the server validates fields itself; and its request
body lists application/strategic-merge-patch+json, which lets client-side apply compute patches from the
published schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubelite.api.resources import GVK, Resource, Subresource
from kubelite.api.schema.dsl import kind_schema

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
_OBJECT_TYPES = ("application/json",)
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS = _META + "Status"
DELETE_OPTIONS = _META + "DeleteOptions"
PATCH = _META + "Patch"

# Query parameters: name -> (JSON type, description).
_PARAMS: dict[str, tuple[str, str]] = {
    "pretty": ("string", "If 'true', the output is pretty-printed."),
    "dryRun": ("string", "'All' processes the request fully without persisting anything."),
    "fieldManager": ("string", "Name of the actor making the change, recorded in managedFields."),
    "fieldValidation": (
        "string",
        "What to do with unknown or duplicate fields: Ignore, Warn (default) or Strict (fail the request).",
    ),
    "force": ("boolean", "For apply requests: take over fields owned by other managers."),
    "allowWatchBookmarks": ("boolean", "Ask for BOOKMARK events in a watch."),
    "continue": ("string", "Continue token of the previous page of a list."),
    "fieldSelector": ("string", "Select objects by fields, such as metadata.name=x."),
    "labelSelector": ("string", "Select objects by labels, such as app=web."),
    "limit": ("integer", "Most items to return; the rest come with the continue token."),
    "resourceVersion": ("string", "Which version of the data a read or a watch starts from."),
    "resourceVersionMatch": ("string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
    "sendInitialEvents": ("boolean", "Start a watch with synthetic events for the current state."),
    "timeoutSeconds": ("integer", "Time limit of the list or watch call."),
    "watch": ("boolean", "Stream changes instead of returning a list."),
    "gracePeriodSeconds": ("integer", "Seconds before the object is deleted; 0 means immediately."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": ("boolean", "Delete even unreadable objects."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy."),
    "propagationPolicy": ("string", "How dependents are deleted: Orphan, Background or Foreground."),
    "container": ("string", "The container, when the pod has several."),
    "follow": ("boolean", "Keep streaming the log as it grows."),
    "insecureSkipTLSVerifyBackend": ("boolean", "Do not verify the kubelet's serving certificate."),
    "limitBytes": ("integer", "Most bytes of log to return."),
    "previous": ("boolean", "Log of the previous, terminated instance of the container."),
    "sinceSeconds": ("integer", "Only log lines newer than this many seconds."),
    "sinceTime": ("string", "Only log lines after this RFC 3339 time."),
    "stream": ("string", "All, Stdout or Stderr."),
    "tailLines": ("integer", "Only this many lines from the end of the log."),
    "timestamps": ("boolean", "Prefix every log line with its RFC 3339 timestamp."),
    "command": ("string", "Command to run; repeat the parameter for each argument."),
    "stdin": ("boolean", "Attach standard input."),
    "stdout": ("boolean", "Attach standard output."),
    "stderr": ("boolean", "Attach standard error."),
    "tty": ("boolean", "Allocate a terminal."),
    "ports": ("integer", "Ports to forward; repeat the parameter for each port."),
    "path": ("string", "Path to proxy the request to."),
}
_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_LIST = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
_DELETE = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
_CONNECT_PARAMS = {
    "attach": ("container", "stdin", "stdout", "stderr", "tty"),
    "exec": ("command", "container", "stdin", "stdout", "stderr", "tty"),
    "portforward": ("ports",),
    "proxy": ("path",),
    "log": (
        "container",
        "follow",
        "insecureSkipTLSVerifyBackend",
        "limitBytes",
        "previous",
        "sinceSeconds",
        "sinceTime",
        "stream",
        "tailLines",
        "timestamps",
    ),
}
_METHOD_FOR_VERB = {"get": "get", "create": "post", "update": "put", "patch": "patch", "delete": "delete"}
# x-kubernetes-action -> (HTTP method, operationId verb, description, query parameters)
_ACTIONS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "list": ("get", "list", "list or watch {}", _LIST),
    "post": ("post", "create", "create {}", _WRITE),
    "deletecollection": ("delete", "delete", "delete a collection of {}", _DELETE + _LIST),
    "get": ("get", "read", "read {}", ()),
    "put": ("put", "replace", "replace {}", _WRITE),
    "patch": ("patch", "patch", "partially update {}", (*_WRITE, "force")),
    "delete": ("delete", "delete", "delete {}", _DELETE),
}
_TEXT = ("text/plain", "*/*")


@dataclass
class Operation:
    """One HTTP operation; `body` and `response` are definition names (None: none, or plain text)."""

    method: str
    operation_id: str
    action: str
    gvk: GVK
    description: str
    params: tuple[str, ...] = ()
    body: str | None = None
    body_types: tuple[str, ...] = ("*/*",)
    response: str | None = None
    response_types: tuple[str, ...] = _OBJECT_TYPES


@dataclass
class PathItem:
    path: str
    path_params: tuple[str, ...]
    operations: list[Operation] = field(default_factory=list)


def resource_paths(resource: Resource) -> list[PathItem]:
    """Every path of a resource; subresources whose kind has no schema are left out."""
    gvk: GVK = (resource.group, resource.version, resource.kind)
    base = "/" + resource.group_version_path
    scope = "Namespaced" if resource.namespaced else ""
    in_namespace = "/namespaces/{namespace}" if resource.namespaced else ""
    collection = PathItem(
        f"{base}{in_namespace}/{resource.plural}", ("namespace",) if resource.namespaced else ()
    )
    collection.operations = _collection_operations(resource, gvk, scope)
    item = PathItem(collection.path + "/{name}", ("name", *collection.path_params))
    name = _op_name(resource, scope)
    item.operations = _object_operations(gvk, set(resource.verbs), name, f"the specified {resource.kind}")
    paths = [path for path in (collection, item) if path.operations]
    if resource.namespaced and "list" in resource.verbs:
        everywhere = PathItem(f"{base}/{resource.plural}", ())
        name = _op_name(resource, "") + "ForAllNamespaces"
        noun = f"{resource.kind} objects of every namespace"
        everywhere.operations = [_op("list", name, gvk, noun, response=_list_definition(resource))]
        paths.append(everywhere)
    for sub in resource.subresources:
        sub_path = _subresource_path(resource, sub, item)
        if sub_path is not None:
            paths.append(sub_path)
    return paths


def _collection_operations(resource: Resource, gvk: GVK, scope: str) -> list[Operation]:
    """list / create / deletecollection on the collection path."""
    name, noun = _op_name(resource, scope), f"{resource.kind} objects"
    one = _definition_for(gvk)
    deletes = _op_name(resource, scope, collection=True)
    operations = []
    if "list" in resource.verbs:  # only listable kinds have a <Kind>List
        operations.append(_op("list", name, gvk, noun, response=_list_definition(resource)))
    if "create" in resource.verbs:
        operations.append(_op("post", name, gvk, noun, body=one, response=one))
    if "deletecollection" in resource.verbs:
        operations.append(_op("deletecollection", deletes, gvk, noun, body=DELETE_OPTIONS, response=STATUS))
    return operations


def _object_operations(gvk: GVK, verbs: set[str], name: str, noun: str) -> list[Operation]:
    """read / replace / patch / delete of one object (or of its status or scale view)."""
    one = _definition_for(gvk)
    by_verb = {
        "get": _op("get", name, gvk, noun, response=one),
        "update": _op("put", name, gvk, noun, body=one, response=one),
        "patch": _op("patch", name, gvk, noun, body=PATCH, body_types=PATCH_TYPES, response=one),
        "delete": _op("delete", name, gvk, noun, body=DELETE_OPTIONS, response=STATUS),
    }
    return [operation for verb, operation in by_verb.items() if verb in verbs]


def _subresource_path(resource: Resource, sub: Subresource, item: PathItem) -> PathItem | None:
    gvk = resource.subresource_gvk(sub)
    path = PathItem(f"{item.path}/{sub.name}", item.path_params)
    name = _op_name(resource, "Namespaced" if resource.namespaced else "") + sub.name.capitalize()
    noun = f"the {sub.name} of the specified {resource.kind}"
    if sub.connect:  # streams: log answers text, the others upgrade the connection
        params = _CONNECT_PARAMS.get(sub.name, ())
        for method in (_METHOD_FOR_VERB[verb] for verb in sub.verbs):
            if sub.name == "log":
                action, operation_id = "get", f"read{name}"
            else:
                action, operation_id = "connect", f"connect{method.capitalize()}{name}"
            description = f"connect to {noun}"
            path.operations.append(
                Operation(method, operation_id, action, gvk, description, params, response_types=_TEXT)
            )
    elif kind_schema(*gvk) is None:
        return None
    elif sub.verbs == ("create",):
        one = _definition_for(gvk)
        path.operations = [_op("post", name, gvk, noun, body=one, response=one)]
    else:
        path.operations = _object_operations(gvk, set(sub.verbs), name, noun)
    return path


def _op(action: str, name: str, gvk: GVK, noun: str, **schemas: Any) -> Operation:
    """A standard operation: `action` decides the HTTP method, the operationId verb and the parameters."""
    method, verb, description, params = _ACTIONS[action]
    return Operation(method, verb + name, action, gvk, description.format(noun), params, **schemas)


def _list_definition(resource: Resource) -> str:
    return _definition_for((resource.group, resource.version, resource.list_kind))


def _op_name(resource: Resource, scope: str, *, collection: bool = False) -> str:
    group = resource.group.split(".", 1)[0].capitalize() if resource.group else "Core"
    return f"{group}{resource.version.capitalize()}{'Collection' if collection else ''}{scope}{resource.kind}"


def _definition_for(gvk: GVK) -> str:
    schema = kind_schema(*gvk)
    if schema is None:
        raise KeyError(f"no schema for kind {gvk}")
    return schema.name


def render(item: PathItem, ref: str, *, v3: bool) -> dict[str, Any]:
    """A path item in OpenAPI v3 (ref = '#/components/schemas/') or swagger 2.0 (ref = '#/definitions/')."""
    rendered: dict[str, Any] = {
        "parameters": [_path_param(name, v3) for name in item.path_params] + [_query_param("pretty", v3)]
    }
    for op in item.operations:
        rendered[op.method] = _render_operation(op, ref, v3)
    return rendered


def _render_operation(op: Operation, ref: str, v3: bool) -> dict[str, Any]:
    group, version, kind = op.gvk
    rendered: dict[str, Any] = {
        "description": op.description,
        "operationId": op.operation_id,
        "tags": [f"{group.split('.', 1)[0] if group else 'core'}_{version}"],
        "parameters": [_query_param(name, v3) for name in op.params],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": kind},
    }
    response = {"$ref": ref + op.response} if op.response else {"type": "string"}
    ok: dict[str, Any] = {"description": "OK"}
    if v3:
        ok["content"] = {media: {"schema": response} for media in op.response_types}
        if op.body:
            body = {"$ref": ref + op.body}
            rendered["requestBody"] = {
                "content": {media: {"schema": body} for media in op.body_types},
                "required": op.method != "delete",
            }
    else:
        ok["schema"] = response
        rendered["produces"] = list(op.response_types)
        rendered["consumes"] = list(op.body_types)
        rendered["schemes"] = ["https"]
        if op.body:
            rendered["parameters"].insert(
                0,
                {
                    "name": "body",
                    "in": "body",
                    "required": op.method != "delete",
                    "schema": {"$ref": ref + op.body},
                },
            )
    rendered["responses"] = {"200": ok, "401": {"description": "Unauthorized"}}
    if op.method in ("post", "put", "patch"):
        rendered["responses"]["201"] = {**ok, "description": "Created"}
    return rendered


def _path_param(name: str, v3: bool) -> dict[str, Any]:
    description = {
        "name": "name of the object",
        "namespace": "object name and auth scope, such as for teams",
    }[name]
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "description": description}
    return param | (
        {"schema": {"type": "string", "uniqueItems": True}} if v3 else {"type": "string", "uniqueItems": True}
    )


def _query_param(name: str, v3: bool) -> dict[str, Any]:
    type_, description = _PARAMS[name]
    param: dict[str, Any] = {"name": name, "in": "query", "description": description}
    return param | (
        {"schema": {"type": type_, "uniqueItems": True}} if v3 else {"type": type_, "uniqueItems": True}
    )
