"""Authenticating service-account tokens (the JWTs the TokenRequest API issues).

A token authenticates while its signature, times and audience check out and the objects it names still
exist with the uids it recorded: the service account, and the pod, secret or node it is bound to. Service
accounts come from the server's watched cache, so the common case costs no store read. As upstream, an
object whose deletion began more than a minute ago no longer vouches for its tokens.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, Protocol

from aiohttp import web

from kubelite.apiserver import errors
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.serviceaccounttoken import InvalidToken, TokenIdentity, TokenSigner

log = logging.getLogger(__name__)

DELETION_GRACE = datetime.timedelta(seconds=60)
_PLURALS = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}


class Lookups(Protocol):
    """What the authenticator reads objects through (the server context provides it)."""

    async def lookup_service_account(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def registry(self, group: str, version: str, plural: str) -> Registry | None: ...


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    return token


def _gone(obj: dict[str, Any] | None, uid: str, now: datetime.datetime) -> bool:
    """Whether `obj` no longer stands for the object with `uid`: missing, replaced, or long deleting."""
    if obj is None:
        return True
    meta = obj.get("metadata") or {}
    if meta.get("uid") != uid:
        return True
    deleting = meta.get("deletionTimestamp")
    if not deleting:
        return False
    since = datetime.datetime.fromisoformat(str(deleting).replace("Z", "+00:00"))
    return since + DELETION_GRACE < now


class ServiceAccountTokenAuthenticator:
    def __init__(self, signer: TokenSigner, lookups: Lookups) -> None:
        self._signer = signer
        self._lookups = lookups

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        token = _bearer(request)
        if token is None:
            return None
        try:
            identity = self._signer.verify(token)
            await self._check_objects(identity)
        except InvalidToken as exc:
            log.debug("service account token refused: %s", exc)
            return None
        groups = ("system:serviceaccounts", f"system:serviceaccounts:{identity.namespace}")
        return UserInfo(identity.username, identity.uid, (*groups, "system:authenticated"))

    async def _check_objects(self, identity: TokenIdentity) -> None:
        now = datetime.datetime.now(datetime.UTC)
        account = await self._lookups.lookup_service_account(identity.namespace, identity.name)
        if _gone(account, identity.uid, now):
            raise InvalidToken(f"service account {identity.namespace}/{identity.name} is gone or replaced")
        bound = identity.bound
        if bound is None:
            return
        registry = self._lookups.registry("", "v1", _PLURALS[bound.kind])
        obj: dict[str, Any] | None = None
        if registry is not None:
            try:
                obj, _ = await registry.get(identity.namespace, bound.name)  # nodes: namespace unused
            except errors.ApiError as exc:
                if exc.code != 404:
                    raise
        if _gone(obj, bound.uid, now):
            raise InvalidToken(f"bound {bound.kind} {identity.namespace}/{bound.name} is gone or replaced")
