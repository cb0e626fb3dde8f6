"""A hand-made PatchSchema describing a Deployment/Pod-like shape, so the patch tests need no real schemas.

The markers mirror upstream's Go tags: containers/env/volumes merge by name, ports by containerPort
(list-map keys containerPort+protocol, protocol defaulting to TCP), finalizers a merged primitive set,
tolerations atomic, volumes and the Deployment strategy carry retainKeys.
"""

from __future__ import annotations

from typing import Any


class Node:
    def __init__(
        self,
        *,
        fields: dict[str, Node] | None = None,
        values: Node | None = None,
        items: Node | None = None,
        merge_key: str | None = None,
        strategy: str = "",
        list_type: str = "",
        map_keys: tuple[str, ...] = (),
        map_type: str = "",
        default: Any = None,
    ) -> None:
        self.fields = fields
        self.values = values
        self._items = items
        self._merge_key = merge_key
        self._strategy = strategy
        self._list_type = list_type
        self._map_keys = map_keys
        self._map_type = map_type
        self.default = default

    def field(self, name: str) -> Node | None:
        if self.fields is not None:
            return self.fields.get(name)
        return self.values

    @property
    def items(self) -> Node | None:
        return self._items

    @property
    def patch_merge_key(self) -> str | None:
        return self._merge_key

    @property
    def patch_strategy(self) -> str:
        return self._strategy

    @property
    def list_type(self) -> str:
        return self._list_type

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return self._map_keys

    @property
    def map_type(self) -> str:
        return self._map_type


def leaf(default: Any = None) -> Node:
    return Node(default=default)


def obj(patch_strategy: str = "", map_type: str = "", /, **fields: Node) -> Node:
    return Node(fields=fields, strategy=patch_strategy, map_type=map_type)


def mapping(values: Node | None = None, map_type: str = "") -> Node:
    return Node(values=values or leaf(), map_type=map_type)


def keyed(items: Node, *keys: str, strategy: str = "merge") -> Node:
    """A list merged by `keys[0]` in strategic merge patch and by all `keys` in server-side apply."""
    return Node(items=items, merge_key=keys[0], strategy=strategy, list_type="map", map_keys=keys)


def merged_set() -> Node:
    return Node(items=leaf(), strategy="merge", list_type="set")


def atomic(items: Node | None = None) -> Node:
    return Node(items=items or leaf(), list_type="atomic")


def untagged(items: Node | None = None) -> Node:
    """A list with no markers at all: replaced by SMP, atomic for apply."""
    return Node(items=items or leaf())


OBJECT_META = obj(
    name=leaf(),
    namespace=leaf(),
    uid=leaf(),
    resourceVersion=leaf(),
    generation=leaf(),
    creationTimestamp=leaf(),
    labels=mapping(),
    annotations=mapping(),
    finalizers=merged_set(),
    ownerReferences=keyed(obj(uid=leaf(), name=leaf(), kind=leaf(), apiVersion=leaf()), "uid"),
    managedFields=atomic(obj()),
)

CONTAINER = obj(
    name=leaf(),
    image=leaf(),
    imagePullPolicy=leaf(),
    args=atomic(),
    command=atomic(),
    terminationMessagePath=leaf(),
    terminationMessagePolicy=leaf(),
    env=keyed(obj(name=leaf(), value=leaf(), valueFrom=obj(fieldRef=obj(fieldPath=leaf()))), "name"),
    ports=keyed(obj(containerPort=leaf(), protocol=leaf("TCP"), name=leaf()), "containerPort", "protocol"),
    volumeMounts=keyed(obj(name=leaf(), mountPath=leaf(), readOnly=leaf()), "mountPath"),
    resources=obj(limits=mapping(), requests=mapping()),
)

VOLUME = obj(
    name=leaf(),
    emptyDir=obj(medium=leaf(), sizeLimit=leaf()),
    configMap=obj(name=leaf(), items=atomic(obj(key=leaf(), path=leaf()))),
    hostPath=obj(path=leaf(), type=leaf()),
)

POD_SPEC = obj(
    containers=keyed(CONTAINER, "name"),
    initContainers=keyed(CONTAINER, "name"),
    volumes=keyed(VOLUME, "name", strategy="merge,retainKeys"),
    tolerations=atomic(obj(key=leaf(), operator=leaf(), effect=leaf())),
    nodeSelector=mapping(map_type="atomic"),
    imagePullSecrets=untagged(obj(name=leaf())),
    dnsPolicy=leaf(),
    restartPolicy=leaf(),
    schedulerName=leaf(),
    terminationGracePeriodSeconds=leaf(),
    securityContext=obj(runAsUser=leaf()),
)

POD = obj(
    apiVersion=leaf(),
    kind=leaf(),
    metadata=OBJECT_META,
    spec=POD_SPEC,
    status=obj(phase=leaf(), podIP=leaf()),
)

DEPLOYMENT = obj(
    apiVersion=leaf(),
    kind=leaf(),
    metadata=OBJECT_META,
    spec=obj(
        replicas=leaf(),
        minReadySeconds=leaf(),
        progressDeadlineSeconds=leaf(),
        revisionHistoryLimit=leaf(),
        selector=obj(matchLabels=mapping()),
        template=obj(metadata=OBJECT_META, spec=POD_SPEC),
        strategy=obj("retainKeys", type=leaf(), rollingUpdate=obj(maxSurge=leaf(), maxUnavailable=leaf())),
    ),
    status=obj(replicas=leaf(), readyReplicas=leaf(), observedGeneration=leaf()),
)
