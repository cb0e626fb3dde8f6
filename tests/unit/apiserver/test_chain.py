"""The request chain: authenticators in order, every authorizer must allow, admission plugins may refuse."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from kubelite.apiserver import errors
from kubelite.apiserver.chain import (
    AdmissionRequest,
    AllowAuthenticated,
    Attributes,
    Chain,
    StaticTokenAuthenticator,
    UserInfo,
)
from kubelite.apiserver.requestinfo import parse

ADMIN = UserInfo("admin", groups=("system:masters", "system:authenticated"))
NOBODY = UserInfo("nobody")


async def test_bearer_tokens() -> None:
    chain = Chain(authenticators=[StaticTokenAuthenticator({"s3cret": ADMIN})])
    ok = make_mocked_request("GET", "/api", headers={"Authorization": "Bearer s3cret"})
    assert await chain.authenticate(ok) == ADMIN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        with pytest.raises(errors.ApiError) as refused:
            await chain.authenticate(make_mocked_request("GET", "/api", headers=headers))
        assert refused.value.code == 401


async def test_authorizers_must_all_allow() -> None:
    chain = Chain(authorizers=[AllowAuthenticated()])
    info = parse("GET", "/api/v1/namespaces/ns/pods/p", {})
    await chain.authorize(Attributes(ADMIN, "GET", "/api/v1/namespaces/ns/pods/p", info))
    with pytest.raises(errors.ApiError) as denied:
        await chain.authorize(Attributes(NOBODY, "GET", "/api/v1/namespaces/ns/pods/p", info))
    assert denied.value.code == 403
    assert denied.value.message == (
        'pods "p" is forbidden: User "nobody" cannot get resource "pods" in API group "" '
        'in the namespace "ns"'
    )


async def test_admission_plugins_run_in_order_and_may_refuse() -> None:
    seen: list[str] = []

    class Label:
        async def admit(self, request: AdmissionRequest) -> None:
            assert request.obj is not None
            request.obj.setdefault("metadata", {})["labels"] = {"admitted": "yes"}
            seen.append("label")

    class Refuse:
        async def admit(self, request: AdmissionRequest) -> None:
            seen.append("refuse")
            raise errors.forbidden(request.res, request.name, "not today")

    info = parse("POST", "/api/v1/namespaces/ns/configmaps", {})
    assert info is not None
    obj: dict[str, Any] = {"metadata": {"name": "c"}}
    request = AdmissionRequest("CREATE", info, "ns", "c", obj, None, ADMIN)
    await Chain(admission=[Label()]).admit(request)
    assert obj["metadata"]["labels"] == {"admitted": "yes"}
    with pytest.raises(errors.ApiError):
        await Chain(admission=[Refuse(), Label()]).admit(request)
    assert seen == ["label", "refuse"]
