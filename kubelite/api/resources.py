"""The REST resources kubelite serves: names, scope, verbs and subresources, as upstream has them.

One table feeds discovery (/api, /apis, aggregated discovery), request routing and the OpenAPI paths, so a
resource is described once. Order matters: groups appear in discovery in the order of their first resource.
"""

from __future__ import annotations

from dataclasses import dataclass

GVK = tuple[str, str, str]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_NO_COLLECTION_DELETE = ("create", "delete", "get", "list", "patch", "update", "watch")
_READ_WRITE = ("get", "patch", "update")
_CONNECT = ("create", "get")
_PROXY = ("create", "delete", "get", "patch", "update")


@dataclass(frozen=True, slots=True)
class Subresource:
    """A subresource such as pods/status; `kind` is what it accepts and returns, in `group`/`version`
    (None: the parent's). `connect` subresources stream (exec, attach, portforward, proxy, log)."""

    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None
    version: str | None = None
    connect: bool = False


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version_path(self) -> str:
        """Path of the group version without leading slash: api/v1 or apis/apps/v1."""
        return f"apis/{self.group}/{self.version}" if self.group else f"api/{self.version}"

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def subresource_gvk(self, sub: Subresource) -> GVK:
        group = self.group if sub.group is None else sub.group
        return (group, sub.version or self.version, sub.kind)


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, _READ_WRITE)


_SCALE = Subresource("scale", "Scale", _READ_WRITE, group="autoscaling", version="v1")
_ALL = ("all",)

RESOURCES: tuple[Resource, ...] = (
    # core/v1
    Resource("", "v1", "Binding", "bindings", "binding", True, verbs=("create",)),
    Resource("", "v1", "ConfigMap", "configmaps", "configmap", True, short_names=("cm",)),
    Resource("", "v1", "Endpoints", "endpoints", "endpoints", True, short_names=("ep",)),
    Resource("", "v1", "Event", "events", "event", True, short_names=("ev",)),
    Resource("", "v1", "LimitRange", "limitranges", "limitrange", True, short_names=("limits",)),
    Resource(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        False,
        verbs=_NO_COLLECTION_DELETE,
        short_names=("ns",),
        subresources=(_status("Namespace"), Subresource("finalize", "Namespace", ("update",))),
    ),
    Resource(
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        False,
        short_names=("no",),
        subresources=(_status("Node"), Subresource("proxy", "NodeProxyOptions", _PROXY, connect=True)),
    ),
    Resource(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        True,
        short_names=("pvc",),
        subresources=(_status("PersistentVolumeClaim"),),
    ),
    Resource(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        False,
        short_names=("pv",),
        subresources=(_status("PersistentVolume"),),
    ),
    Resource(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        True,
        short_names=("po",),
        categories=_ALL,
        subresources=(
            Subresource("attach", "PodAttachOptions", _CONNECT, connect=True),
            Subresource("binding", "Binding", ("create",)),
            Subresource("eviction", "Eviction", ("create",), group="policy", version="v1"),
            Subresource("exec", "PodExecOptions", _CONNECT, connect=True),
            Subresource("log", "Pod", ("get",), connect=True),
            Subresource("portforward", "PodPortForwardOptions", _CONNECT, connect=True),
            _status("Pod"),
        ),
    ),
    Resource("", "v1", "PodTemplate", "podtemplates", "podtemplate", True),
    Resource(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        "replicationcontroller",
        True,
        short_names=("rc",),
        categories=_ALL,
        subresources=(_SCALE, _status("ReplicationController")),
    ),
    Resource(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        True,
        short_names=("quota",),
        subresources=(_status("ResourceQuota"),),
    ),
    Resource("", "v1", "Secret", "secrets", "secret", True),
    Resource(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        True,
        short_names=("sa",),
        subresources=(
            Subresource("token", "TokenRequest", ("create",), group="authentication.k8s.io", version="v1"),
        ),
    ),
    Resource(
        "",
        "v1",
        "Service",
        "services",
        "service",
        True,
        short_names=("svc",),
        categories=_ALL,
        subresources=(Subresource("proxy", "ServiceProxyOptions", _PROXY, connect=True), _status("Service")),
    ),
    # apps/v1
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", True),
    Resource(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        True,
        short_names=("ds",),
        categories=_ALL,
        subresources=(_status("DaemonSet"),),
    ),
    Resource(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        True,
        short_names=("deploy",),
        categories=_ALL,
        subresources=(_SCALE, _status("Deployment")),
    ),
    Resource(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        True,
        short_names=("rs",),
        categories=_ALL,
        subresources=(_SCALE, _status("ReplicaSet")),
    ),
    Resource(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        True,
        short_names=("sts",),
        categories=_ALL,
        subresources=(_SCALE, _status("StatefulSet")),
    ),
    # events.k8s.io/v1
    Resource("events.k8s.io", "v1", "Event", "events", "event", True, short_names=("ev",)),
    # batch/v1
    Resource(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        True,
        short_names=("cj",),
        categories=_ALL,
        subresources=(_status("CronJob"),),
    ),
    Resource("batch", "v1", "Job", "jobs", "job", True, categories=_ALL, subresources=(_status("Job"),)),
    # policy/v1
    Resource(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        True,
        short_names=("pdb",),
        subresources=(_status("PodDisruptionBudget"),),
    ),
    # storage.k8s.io/v1
    Resource(
        "storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", False, short_names=("sc",)
    ),
    # coordination.k8s.io/v1
    Resource("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
    # discovery.k8s.io/v1
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True),
)

_BY_PLURAL = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {(r.group, r.version, r.kind): r for r in RESOURCES}


def find(group: str, version: str, plural: str) -> Resource | None:
    """The resource served at /api(s)/<group>/<version>/.../<plural>, if any."""
    return _BY_PLURAL.get((group, version, plural))


def for_kind(group: str, version: str, kind: str) -> Resource | None:
    return _BY_KIND.get((group, version, kind))


def group_versions() -> list[tuple[str, str]]:
    """(group, version) pairs in discovery order, core first."""
    return list(dict.fromkeys((r.group, r.version) for r in RESOURCES))


def in_group_version(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if r.group == group and r.version == version]
