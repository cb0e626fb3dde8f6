"""Admission plugins that complete a pod before it is stored: ServiceAccount and DefaultTolerationSeconds.

ServiceAccount, as upstream: a pod naming no service account runs as `default`; a pod naming one that does
not exist is forbidden; and unless the pod or its ServiceAccount opts out, every container gets the API
credentials (a bound token, the cluster CA from the `kube-root-ca.crt` ConfigMap and the namespace) through
one projected volume mounted where in-cluster clients look for them.
DefaultTolerationSeconds: pods ride out a node being not-ready or unreachable for five minutes before they
are evicted, unless they say otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.apiserver import errors
from kubelite.apiserver.chain import AdmissionRequest
from kubelite.apiserver.objectmeta import generate_name

# Reads a ServiceAccount by (namespace, name); None if it does not exist.
ServiceAccountLookup = Callable[[str, str], Awaitable[dict[str, Any] | None]]

DEFAULT_ACCOUNT = "default"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_VOLUME_PREFIX = "kube-api-access-"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
# Upstream's value: a little over an hour, which the kubelet recognises as an admission-made token.
TOKEN_EXPIRATION_SECONDS = 3607
DEFAULT_TOLERATION_SECONDS = 300
_NODE_CONDITION_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def _is_pod_write(request: AdmissionRequest) -> bool:
    info = request.info
    return (
        info.group == ""
        and info.resource == "pods"
        and not info.subresource
        and request.operation in ("CREATE", "UPDATE")
        and request.obj is not None
    )


class ServiceAccountAdmission:
    def __init__(self, lookup: ServiceAccountLookup) -> None:
        self._lookup = lookup

    async def admit(self, request: AdmissionRequest) -> None:
        if not _is_pod_write(request) or request.operation != "CREATE":
            return
        pod = request.obj
        assert pod is not None
        if MIRROR_POD_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {}):
            return  # static pods are the kubelet's; their spec is left as written
        spec = pod.setdefault("spec", {})
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_ACCOUNT
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name
        account = await self._lookup(request.namespace, name)
        if account is None:
            if name == DEFAULT_ACCOUNT:
                # The serviceaccount controller has not made it yet (or is not running, as in an API server
                # run alone): admit the pod without credentials rather than refuse every pod.
                return
            why = (
                f"error looking up service account {request.namespace}/{name}: "
                f'serviceaccount "{name}" not found'
            )
            raise errors.forbidden(request.res, request.name, why)
        if not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [
                {"name": s["name"]} for s in account["imagePullSecrets"] if "name" in s
            ]
        if _automounts(account, spec):
            _mount_token(spec)


def _automounts(account: dict[str, Any], spec: dict[str, Any]) -> bool:
    # The pod's own choice wins over the ServiceAccount's.
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    return account.get("automountServiceAccountToken") is not False


def _mount_token(spec: dict[str, Any]) -> None:
    volumes: list[dict[str, Any]] = spec.get("volumes") or []
    existing = next(
        (v["name"] for v in volumes if str(v.get("name", "")).startswith(TOKEN_VOLUME_PREFIX)), None
    )
    volume_name = existing or generate_name(TOKEN_VOLUME_PREFIX)
    mounted = False
    for kind in ("initContainers", "containers"):
        for container in spec.get(kind) or []:
            mounts = container.setdefault("volumeMounts", [])
            # A container that mounts something of its own at the path keeps it.
            if any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                continue
            mounts.append({"name": volume_name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH})
            mounted = True
    if mounted and existing is None:
        spec["volumes"] = [*volumes, _token_volume(volume_name)]


def _token_volume(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "projected": {
            "defaultMode": 0o644,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": ROOT_CA_CONFIGMAP, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


class DefaultTolerationSeconds:
    async def admit(self, request: AdmissionRequest) -> None:
        if not _is_pod_write(request):
            return
        assert request.obj is not None
        spec = request.obj.setdefault("spec", {})
        tolerations: list[dict[str, Any]] = spec.get("tolerations") or []
        added = [
            {
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }
            for key in _NODE_CONDITION_TAINTS
            if not any(_tolerates_no_execute(t, key) for t in tolerations)
        ]
        if added:
            spec["tolerations"] = [*tolerations, *added]


def _tolerates_no_execute(toleration: dict[str, Any], key: str) -> bool:
    # An empty key or effect matches every taint key or effect.
    return toleration.get("key", "") in ("", key) and toleration.get("effect", "") in ("", "NoExecute")
