"""DefaultStorageClass and StorageObjectInUseProtection on claims and volumes being created."""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.chain import AdmissionRequest, UserInfo
from kubelite.apiserver.requestinfo import parse
from kubelite.apiserver.storageadmission import DefaultStorageClass, StorageObjectInUseProtection

ADMIN = UserInfo("admin", groups=("system:masters",))


def storage_class(name: str, created: str, *, default: bool) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": annotations}}


CLASSES = [
    storage_class("old-default", "2026-01-01T00:00:00Z", default=True),
    storage_class("new-default", "2026-02-01T00:00:00Z", default=True),
    storage_class("newest-plain", "2026-03-01T00:00:00Z", default=False),
]


async def create_claim(spec: dict[str, Any], classes: list[dict[str, Any]]) -> dict[str, Any]:
    async def list_classes() -> list[dict[str, Any]]:
        return classes

    claim = {"metadata": {"name": "c"}, "spec": spec}
    info = parse("POST", "/api/v1/namespaces/ns/persistentvolumeclaims", {})
    request = AdmissionRequest("CREATE", info, "ns", "c", claim, None, ADMIN)
    await DefaultStorageClass(list_classes).admit(request)
    await StorageObjectInUseProtection().admit(request)
    return claim


async def test_a_claim_without_a_class_gets_the_newest_default() -> None:
    claim = await create_claim({}, CLASSES)
    assert claim["spec"]["storageClassName"] == "new-default"
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


async def test_an_empty_class_or_no_default_is_left_alone() -> None:
    assert (await create_claim({"storageClassName": ""}, CLASSES))["spec"]["storageClassName"] == ""
    assert (await create_claim({"storageClassName": "x"}, CLASSES))["spec"]["storageClassName"] == "x"
    assert "storageClassName" not in (await create_claim({}, CLASSES[2:]))["spec"]


async def test_volumes_get_the_pv_protection_finalizer_once() -> None:
    volume = {"metadata": {"name": "v", "finalizers": ["kubernetes.io/pv-protection"]}, "spec": {}}
    info = parse("POST", "/api/v1/persistentvolumes", {})
    await StorageObjectInUseProtection().admit(AdmissionRequest("CREATE", info, "", "v", volume, None, ADMIN))
    assert volume["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
