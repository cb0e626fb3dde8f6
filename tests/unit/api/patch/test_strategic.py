"""Strategic merge patch: one row per directive and list strategy, then the patches kubectl really sends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubelite.api.patch.errors import PatchError
from kubelite.api.patch.strategic import strategic_merge_patch
from tests.unit.api.patch import kubectl_wire
from tests.unit.api.patch.fake_schema import DEPLOYMENT, POD


def containers(*names: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": name, **extra} for name in names]


def pod_spec(**spec: Any) -> dict[str, Any]:
    return {"spec": spec}


NGINX = {
    "name": "nginx",
    "image": "nginx:1.25",
    "env": [{"name": "MODE", "value": "prod"}, {"name": "DEBUG", "value": "1"}],
    "ports": [{"containerPort": 80, "protocol": "TCP"}],
}
SIDECAR = {"name": "sidecar", "image": "busybox", "args": ["sleep"]}

# (id, original, patch, expected)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "scalar replaces",
        pod_spec(restartPolicy="Always"),
        pod_spec(restartPolicy="Never"),
        pod_spec(restartPolicy="Never"),
    ),
    (
        "null deletes a key",
        {"metadata": {"labels": {"app": "web", "tier": "fe"}}},
        {"metadata": {"labels": {"tier": None}}},
        {"metadata": {"labels": {"app": "web"}}},
    ),
    (
        "null for an absent key changes nothing",
        {"metadata": {"labels": {"app": "web"}}},
        {"metadata": {"labels": {"gone": None}}},
        {"metadata": {"labels": {"app": "web"}}},
    ),
    (
        "a new object loses its nulls",
        pod_spec(),
        pod_spec(securityContext={"runAsUser": 1, "fsGroup": None}),
        pod_spec(securityContext={"runAsUser": 1}),
    ),
    (
        "merge list: element merged by name, order kept",
        pod_spec(containers=[NGINX, SIDECAR]),
        pod_spec(containers=[{"name": "nginx", "image": "nginx:1.26"}]),
        pod_spec(containers=[{**NGINX, "image": "nginx:1.26"}, SIDECAR]),
    ),
    (
        "merge list: a new element goes before the server's (upstream order)",
        pod_spec(containers=containers("a", "b")),
        pod_spec(containers=containers("new")),
        pod_spec(containers=containers("new", "a", "b")),
    ),
    (
        "merge list: ports merge by containerPort",
        pod_spec(containers=[NGINX]),
        pod_spec(containers=[{"name": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]),
        pod_spec(containers=[{**NGINX, "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}]}]),
    ),
    (
        "$patch: delete removes the element with that merge key",
        pod_spec(containers=[NGINX]),
        pod_spec(containers=[{"name": "nginx", "env": [{"name": "DEBUG", "$patch": "delete"}]}]),
        pod_spec(containers=[{**NGINX, "env": [{"name": "MODE", "value": "prod"}]}]),
    ),
    (
        "$patch: delete of a missing element is a no-op",
        pod_spec(containers=containers("a")),
        pod_spec(containers=[{"name": "zz", "$patch": "delete"}]),
        pod_spec(containers=containers("a")),
    ),
    (
        "$patch: replace in a list replaces it",
        pod_spec(containers=[NGINX, SIDECAR]),
        pod_spec(containers=[{"name": "only", "image": "x"}, {"$patch": "replace"}]),
        pod_spec(containers=[{"name": "only", "image": "x"}]),
    ),
    (
        "$patch: replace in a map replaces it",
        {"metadata": {"labels": {"app": "web"}}},
        {"metadata": {"labels": {"$patch": "replace", "new": "1"}}},
        {"metadata": {"labels": {"new": "1"}}},
    ),
    (
        "$patch: delete in a map removes it",
        pod_spec(nodeSelector={"disk": "ssd"}, dnsPolicy="Default"),
        pod_spec(nodeSelector={"$patch": "delete"}),
        pod_spec(dnsPolicy="Default"),
    ),
    (
        "$patch: merge in a map merges",
        {"metadata": {"labels": {"app": "web"}}},
        {"metadata": {"labels": {"$patch": "merge", "x": "1"}}},
        {"metadata": {"labels": {"app": "web", "x": "1"}}},
    ),
    (
        "atomic list is replaced",
        pod_spec(tolerations=[{"key": "a"}, {"key": "b"}]),
        pod_spec(tolerations=[{"key": "c"}]),
        pod_spec(tolerations=[{"key": "c"}]),
    ),
    (
        "list without markers is replaced",
        pod_spec(containers=[SIDECAR]),
        pod_spec(containers=[{"name": "sidecar", "args": ["a", "b"]}]),
        pod_spec(containers=[{**SIDECAR, "args": ["a", "b"]}]),
    ),
    (
        "merged primitive list: union, no duplicates, patch values first as upstream orders them",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["c", "a"]}},
        {"metadata": {"finalizers": ["c", "a", "b"]}},
    ),
    (
        "$deleteFromPrimitiveList removes values",
        {"metadata": {"finalizers": ["a", "b", "a"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
        {"metadata": {"finalizers": ["b"]}},
    ),
    (
        "$deleteFromPrimitiveList of an absent list adds nothing",
        {"metadata": {}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
        {"metadata": {}},
    ),
    (
        "$setElementOrder reorders without other changes",
        pod_spec(containers=containers("a", "b", "c")),
        pod_spec(**{"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}),
        pod_spec(containers=containers("c", "a", "b")),
    ),
    (
        "$setElementOrder keeps server-only elements near their neighbours",
        pod_spec(containers=containers("1", "2", "9", "3", "4")),
        pod_spec(**{"$setElementOrder/containers": [{"name": n} for n in ("2", "1", "4", "3")]}),
        pod_spec(containers=containers("2", "1", "9", "4", "3")),
    ),
    (
        "$setElementOrder places a new element",
        pod_spec(containers=containers("a", "b")),
        pod_spec(
            **{"$setElementOrder/containers": [{"name": "a"}, {"name": "new"}, {"name": "b"}]},
            containers=containers("new"),
        ),
        pod_spec(containers=containers("a", "new", "b")),
    ),
    (
        "$setElementOrder of primitives",
        {"metadata": {"finalizers": ["a", "b", "c"]}},
        {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"]}},
        {"metadata": {"finalizers": ["c", "b", "a"]}},
    ),
    (
        "$retainKeys clears the keys it does not list",
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        {"spec": {"strategy": {"type": "Recreate"}}},
    ),
    (
        "$retainKeys inside a merged list element (volume source switch)",
        pod_spec(volumes=[{"name": "data", "emptyDir": {}}]),
        pod_spec(volumes=[{"name": "data", "$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/x"}}]),
        pod_spec(volumes=[{"name": "data", "hostPath": {"path": "/x"}}]),
    ),
    (
        "a new list loses its directive elements",
        pod_spec(),
        pod_spec(volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "$patch": "delete"}]),
        pod_spec(volumes=[{"name": "a", "emptyDir": {}}]),
    ),
    (
        "unknown fields get JSON merge patch semantics",
        {"extra": {"list": [1, 2], "m": {"a": 1}}},
        {"extra": {"list": [3], "m": {"b": 2, "a": None}}},
        {"extra": {"list": [3], "m": {"b": 2}}},
    ),
    (
        "a changed type is replaced",
        pod_spec(containers="oops"),
        pod_spec(containers=containers("a")),
        pod_spec(containers=containers("a")),
    ),
    ("top-level $patch: delete empties the object", {"metadata": {"name": "x"}}, {"$patch": "delete"}, {}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_strategic_merge_patch(
    original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    before, patch_before = copy.deepcopy(original), copy.deepcopy(patch)
    assert strategic_merge_patch(original, patch, POD) == expected
    assert (original, patch) == (before, patch_before), "inputs must not be modified"


# (id, patch, message, HTTP code)
ERRORS: list[tuple[str, dict[str, Any], str, int]] = [
    (
        "element without its merge key",
        pod_spec(containers=[{"image": "x"}]),
        "map: map[image:x] does not contain declared merge key: name",
        422,
    ),
    (
        "delete directive without the merge key",
        pod_spec(containers=[{"$patch": "delete"}]),
        "map: map[$patch:delete] does not contain declared merge key: name",
        422,
    ),
    (
        "unknown $patch in a map",
        {"metadata": {"labels": {"$patch": "bogus"}}},
        "unknown patch type: bogus in map: map[$patch:bogus]",
        422,
    ),
    (
        "unknown $patch in a list",
        pod_spec(containers=[{"name": "a", "$patch": "nope"}]),
        "unknown patch type: nope in map: map[$patch:nope name:a]",
        422,
    ),
    (
        "$retainKeys not a list",
        {"spec": {"strategy": {"$retainKeys": "type"}}},
        "invalid patch format of retainKeys",
        400,
    ),
    (
        "$retainKeys missing a key the patch sets",
        {"spec": {"strategy": {"$retainKeys": [], "type": "Recreate"}}},
        "invalid patch format of retainKeys",
        400,
    ),
    (
        "$setElementOrder without a field",
        pod_spec(**{"$setElementOrder": []}),
        "invalid patch format of setElementOrder list",
        400,
    ),
    (
        "$deleteFromPrimitiveList without a field",
        {"metadata": {"$deleteFromPrimitiveList": ["a"]}},
        "invalid patch format of primitive list",
        400,
    ),
    (
        "$setElementOrder contradicting the patch list",
        pod_spec(
            **{"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}]}, containers=containers("b", "a")
        ),
        "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n"
        "[map[name:a] map[name:b]]\n",
        422,
    ),
    (
        "list of lists in a merged list",
        {"metadata": {"finalizers": [["x"]]}},
        "lists of lists are not supported",
        422,
    ),
    (
        "mixed element types in a merged list",
        {"metadata": {"finalizers": [1]}},
        "list element types are not identical: [[a] [1]]",
        422,
    ),
]


@pytest.mark.parametrize(("patch", "message", "code"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_malformed_patches_are_refused(patch: dict[str, Any], message: str, code: int) -> None:
    original = {
        "metadata": {"labels": {"app": "web"}, "finalizers": ["a"]},
        "spec": {"containers": containers("a", "b"), "strategy": {"type": "RollingUpdate"}},
    }
    with pytest.raises(PatchError) as caught:
        strategic_merge_patch(original, patch, DEPLOYMENT if "strategy" in json.dumps(patch) else POD)
    assert (caught.value.message, caught.value.code) == (message, code)


def test_patch_must_be_an_object() -> None:
    with pytest.raises(PatchError) as caught:
        strategic_merge_patch({}, ["not", "an", "object"], POD)
    assert (caught.value.message, caught.value.code) == ("invalid JSON document", 400)


def _template_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def test_kubectl_client_side_apply_patch() -> None:
    live = kubectl_wire.LIVE_DEPLOYMENT
    patch = json.loads(kubectl_wire.CLIENT_SIDE_APPLY)

    result = strategic_merge_patch(live, patch, DEPLOYMENT)

    expected = copy.deepcopy(live)
    del expected["metadata"]["labels"]
    expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = patch[
        "metadata"
    ]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    expected["spec"]["replicas"] = 3
    nginx, sidecar = _template_spec(expected)["containers"]
    nginx["image"] = "nginx:1.26"
    nginx["env"] = [{"name": "MODE", "value": "prod"}]
    _template_spec(expected)["containers"] = [{"image": "busybox:1.36", "name": "init-log"}, nginx, sidecar]
    assert result == expected


def test_kubectl_client_side_apply_switching_strategy_uses_retain_keys() -> None:
    result = strategic_merge_patch(
        kubectl_wire.LIVE_DEPLOYMENT, json.loads(kubectl_wire.APPLY_RECREATE), DEPLOYMENT
    )
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert [c["name"] for c in _template_spec(result)["containers"]] == ["init-log", "nginx", "sidecar"]


def test_kubectl_rollout_restart_patch() -> None:
    result = strategic_merge_patch(
        kubectl_wire.LIVE_DEPLOYMENT, json.loads(kubectl_wire.ROLLOUT_RESTART), DEPLOYMENT
    )
    template = result["spec"]["template"]
    assert template["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T20:02:07Z"},
    }
    assert template["spec"] == kubectl_wire.LIVE_DEPLOYMENT["spec"]["template"]["spec"]


def test_kubectl_set_image_patch() -> None:
    result = strategic_merge_patch(
        kubectl_wire.LIVE_DEPLOYMENT, json.loads(kubectl_wire.SET_IMAGE), DEPLOYMENT
    )
    expected = copy.deepcopy(kubectl_wire.LIVE_DEPLOYMENT)
    _template_spec(expected)["containers"][0]["image"] = "nginx:1.27"
    assert result == expected
