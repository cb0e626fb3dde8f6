"""kubectl's imperative `create` commands, which send protobuf bodies (typed client-go clientsets).

Each command must succeed against kubelite and store what the same object sent as JSON would store.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import orjson

from tests.integration.apiserver.conftest import RunningServer
from tests.support.protobuf_wire import envelope, message, number, object_meta, string, string_map

PROTOBUF = "application/vnd.kubernetes.protobuf"

# (resource, name, the `kubectl create` arguments after "create")
CREATE_COMMANDS: list[tuple[str, str, list[str]]] = [
    ("configmap", "cm", ["configmap", "cm", "--from-literal=a=b", "--from-literal=c=d"]),
    ("secret", "s", ["secret", "generic", "s", "--from-literal=user=admin"]),
    (
        "deployment",
        "web",
        [
            "deployment",
            "web",
            "--image=busybox",
            "--replicas=2",
            "--port=8080",
            "--",
            "httpd",
            "-f",
            "-p",
            "8080",
        ],
    ),
    ("deployment", "idle", ["deployment", "idle", "--image=busybox", "--replicas=0"]),
    ("job", "j", ["job", "j", "--image=busybox", "--", "echo", "hi"]),
    ("cronjob", "cj", ["cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--", "echo", "hi"]),
    ("service", "svc", ["service", "clusterip", "svc", "--tcp=80:8080"]),
    ("serviceaccount", "sa", ["serviceaccount", "sa"]),
    ("resourcequota", "q", ["quota", "q", "--hard=pods=10,cpu=2,memory=1Gi"]),
]


def _get(apiserver: RunningServer, resource: str, name: str, *flags: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(apiserver.kubectl("get", resource, name, "-o", "json", *flags).stdout)
    return out


def test_create_commands_store_what_was_asked(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "namespace", "team")
    assert _get(apiserver, "namespace", "team")["metadata"]["name"] == "team"
    for _resource, _name, args in CREATE_COMMANDS:
        apiserver.kubectl("create", "-n", "team", *args)
    apiserver.kubectl("create", "-n", "team", "job", "manual", "--from=cronjob/cj")

    def get(resource: str, name: str) -> dict[str, Any]:
        return _get(apiserver, resource, name, "-n", "team")

    assert get("configmap", "cm")["data"] == {"a": "b", "c": "d"}
    assert get("secret", "s")["data"] == {"user": "YWRtaW4="}

    web = get("deployment", "web")["spec"]
    assert web["replicas"] == 2
    assert web["selector"] == {"matchLabels": {"app": "web"}}
    container = web["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"]) == ("busybox", "busybox")
    assert container["command"] == ["httpd", "-f", "-p", "8080"]
    assert container["ports"][0]["containerPort"] == 8080
    assert get("deployment", "idle")["spec"]["replicas"] == 0  # a pointer's zero survives the trip

    job = get("job", "j")["spec"]["template"]["spec"]
    assert job["restartPolicy"] == "Never"
    assert job["containers"][0]["command"] == ["echo", "hi"]
    cron = get("cronjob", "cj")["spec"]
    assert cron["schedule"] == "*/5 * * * *"
    assert cron["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    manual = get("job", "manual")["metadata"]
    assert manual["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    owner = manual["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "cj", True)

    service = get("service", "svc")["spec"]
    assert service["type"] == "ClusterIP"
    assert service["selector"] == {"app": "svc"}
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["ports"]] == [("80-8080", 80, 8080)]
    assert get("serviceaccount", "sa")["metadata"]["namespace"] == "team"
    assert get("resourcequota", "q")["spec"]["hard"] == {"pods": "10", "cpu": "2", "memory": "1Gi"}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what differs between two creations of it: identity, times, allocated IPs."""
    meta = obj["metadata"]
    uid = meta.pop("uid")
    for key in ("resourceVersion", "creationTimestamp", "namespace"):
        meta.pop(key, None)
    for entry in meta.get("managedFields", []):
        entry.pop("time", None)
    for key in ("clusterIP", "clusterIPs"):
        obj.get("spec", {}).pop(key, None)
    same: dict[str, Any] = json.loads(json.dumps(obj).replace(uid, "<uid>"))  # Job labels carry the uid
    return same


def test_protobuf_and_json_bodies_store_the_same_objects(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "namespace", "via-protobuf")
    apiserver.kubectl("create", "namespace", "via-json")
    for resource, name, args in CREATE_COMMANDS:
        apiserver.kubectl("create", "-n", "via-protobuf", *args)
        as_json = apiserver.kubectl(
            "create", "-n", "via-json", "--dry-run=client", "-o", "json", *args
        ).stdout
        apiserver.kubectl("create", "-n", "via-json", "-f", "-", input=as_json)
        stored = [
            _comparable(_get(apiserver, resource, name, "-n", namespace, "--show-managed-fields"))
            for namespace in ("via-protobuf", "via-json")
        ]
        assert stored[0] == stored[1], resource


async def test_unknown_fields_and_unsupported_kinds_over_http(apiserver: RunningServer) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    with_unknown = envelope(
        "v1", "ConfigMap", message(1, object_meta("cm")) + string_map(2, {"a": "b"}) + number(99, 1)
    )
    connector = aiohttp.TCPConnector(ssl=apiserver.ssl_context())
    headers = {"Authorization": f"Bearer {apiserver.token}", "Content-Type": PROTOBUF}
    async with aiohttp.ClientSession(apiserver.url, connector=connector, headers=headers) as http:
        async with http.post(path, params={"fieldValidation": "Strict"}, data=with_unknown) as resp:
            assert resp.status == 400
            status = orjson.loads(await resp.read())
            assert status["message"] == 'strict decoding error: unknown field "(protobuf field 99)"'
        async with http.post(path, params={"fieldValidation": "Warn"}, data=with_unknown) as resp:
            assert resp.status == 201
            assert resp.headers.getall("Warning") == ['299 - "unknown field \\"(protobuf field 99)\\""']
            assert orjson.loads(await resp.read())["data"] == {"a": "b"}
        # client-go's typed Delete sends DeleteOptions as protobuf too: a wrong uid precondition must bite.
        wrong_uid = envelope(
            "v1", "DeleteOptions", message(2, string(1, "not-the-uid")) + string(4, "Background")
        )
        async with http.delete(f"{path}/cm", data=wrong_uid) as resp:
            assert resp.status == 409
        async with http.delete(
            f"{path}/cm", data=envelope("v1", "DeleteOptions", string(4, "Background"))
        ) as resp:
            assert resp.status == 200
        async with http.post(path, data=envelope("example.com/v1", "Widget", b"")) as resp:
            assert resp.status == 415
            assert "Widget (example.com/v1)" in orjson.loads(await resp.read())["message"]
