"""The authenticate → authorize → admit chain every request passes.

Each stage is a list of pluggable steps. Authenticators are tried in order until one recognises the
credentials; every authorizer must allow; admission plugins run in order on writes and may change the object
or reject it (by raising an ApiError). Today: the static admin token, service-account tokens (tokenauth.py)
and an allow-all authorizer for authenticated users; node credentials and RBAC slot in later.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from kubelite.apiserver import errors
from kubelite.apiserver.requestinfo import RequestInfo


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attributes:
    """What authorization decides on: who, which verb, on what (a resource or a non-resource path)."""

    user: UserInfo
    verb: str
    path: str
    info: RequestInfo | None


@dataclass(slots=True)
class AdmissionRequest:
    """A write on its way to storage. `obj` may be replaced by mutating plugins."""

    operation: str  # CREATE, UPDATE, DELETE
    info: RequestInfo
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    user: UserInfo
    dry_run: bool = False
    res: errors.Resource = field(default_factory=lambda: errors.Resource("", ""))


class Authenticator(Protocol):
    async def authenticate(self, request: web.Request) -> UserInfo | None:
        """The user, or None when these credentials are not this authenticator's to judge."""
        ...


class Authorizer(Protocol):
    async def authorize(self, attrs: Attributes) -> bool: ...


class AdmissionPlugin(Protocol):
    async def admit(self, request: AdmissionRequest) -> None:
        """Reject by raising an ApiError; mutate by changing request.obj."""
        ...


class StaticTokenAuthenticator:
    """Bearer tokens known in advance (the admin token from the data dir)."""

    def __init__(self, tokens: dict[str, UserInfo]) -> None:
        self._tokens = dict(tokens)

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented = token.strip().encode()
        for known, user in self._tokens.items():
            if hmac.compare_digest(presented, known.encode()):
                return user
        return None


class AllowAuthenticated:
    async def authorize(self, attrs: Attributes) -> bool:
        return "system:authenticated" in attrs.user.groups


@dataclass
class Chain:
    authenticators: list[Authenticator] = field(default_factory=list)
    authorizers: list[Authorizer] = field(default_factory=list)
    admission: list[AdmissionPlugin] = field(default_factory=list)

    async def authenticate(self, request: web.Request) -> UserInfo:
        for authenticator in self.authenticators:
            user = await authenticator.authenticate(request)
            if user is not None:
                return user
        raise errors.unauthorized()

    async def authorize(self, attrs: Attributes) -> None:
        for authorizer in self.authorizers:
            if not await authorizer.authorize(attrs):
                raise _forbidden(attrs)

    async def admit(self, request: AdmissionRequest) -> None:
        for plugin in self.admission:
            await plugin.admit(request)


def _forbidden(attrs: Attributes) -> errors.ApiError:
    user = attrs.user.name
    if attrs.info is None:
        return errors.ApiError(
            403, "Forbidden", f'forbidden: User "{user}" cannot {attrs.verb.lower()} path "{attrs.path}"'
        )
    info = attrs.info
    res = errors.Resource(info.group, info.resource)
    target = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
    scope = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
    why = f'User "{user}" cannot {info.verb} resource "{target}" in API group "{info.group}"{scope}'
    return errors.forbidden(res, info.name, why)
