"""API discovery from the resource table: aggregated (apidiscovery.k8s.io/v2) and the legacy documents.

kubectl asks `/api` and `/apis` for the aggregated form first; it only uses it when the response's
Content-Type names it exactly (AGGREGATED_CONTENT_TYPE), and drops any resource or subresource without a
responseKind. Legacy clients walk `/api` → `/api/v1`, `/apis` → `/apis/<g>/<v>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubelite.apiserver.resource import ApiResource

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """True if the Accept header lists the v2 aggregated discovery document."""
    for media in accept.split(","):
        params = {
            p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in media.split(";")[1:] if "=" in p
        }
        if (
            params.get("g") == "apidiscovery.k8s.io"
            and params.get("v") == "v2"
            and params.get("as") == "APIGroupDiscoveryList"
        ):
            return True
    return False


class Discovery:
    def __init__(self, resources: Iterable[ApiResource]) -> None:
        self._resources = list(resources)
        # group -> versions in table order (the first is preferred)
        self.groups: dict[str, list[str]] = {}
        for r in self._resources:
            versions = self.groups.setdefault(r.group, [])
            if r.version not in versions:
                versions.append(r.version)

    def resources_of(self, group: str, version: str) -> list[ApiResource]:
        return [r for r in self._resources if r.group == group and r.version == version]

    def has_group_version(self, group: str, version: str) -> bool:
        return version in self.groups.get(group, [])

    # --- aggregated -------------------------------------------------------------------------------------
    def _aggregated_resource(self, r: ApiResource) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resource": r.plural,
            "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
            "scope": "Namespaced" if r.namespaced else "Cluster",
            "singularResource": r.singular,
            "verbs": sorted(r.verbs),
        }
        if r.short_names:
            out["shortNames"] = list(r.short_names)
        if r.categories:
            out["categories"] = list(r.categories)
        if r.subresources:
            out["subresources"] = [
                {"subresource": s.name, "responseKind": s.response.to_dict(), "verbs": sorted(s.verbs)}
                for s in r.subresources
            ]
        return out

    def _aggregated_group(self, group: str) -> dict[str, Any]:
        return {
            "metadata": {"name": group, "creationTimestamp": None},
            "versions": [
                {
                    "version": version,
                    "resources": [self._aggregated_resource(r) for r in self.resources_of(group, version)],
                    "freshness": "Current",
                }
                for version in self.groups[group]
            ],
        }

    def aggregated(self, *, legacy: bool) -> dict[str, Any]:
        """`/api` (legacy=True: the core group only) or `/apis` (every named group)."""
        names = [g for g in self.groups if (g == "") == legacy]
        return {
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": [self._aggregated_group(g) for g in names],
        }

    # --- legacy -----------------------------------------------------------------------------------------
    def api_versions(self, server_address: str) -> dict[str, Any]:
        return {
            "kind": "APIVersions",
            "versions": self.groups.get("", []),
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }

    def api_group(self, group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.groups[group]]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": versions,
            "preferredVersion": versions[0],
        }

    def api_group_list(self) -> dict[str, Any]:
        groups = [self.api_group(g) for g in self.groups if g]
        for g in groups:
            del g["kind"], g["apiVersion"]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list(self, group: str, version: str) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []
        for r in self.resources_of(group, version):
            entry: dict[str, Any] = {
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": sorted(r.verbs),
            }
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            entries.append(entry)
            for s in r.subresources:
                sub: dict[str, Any] = {
                    "name": f"{r.plural}/{s.name}",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": s.response.kind,
                    "verbs": sorted(s.verbs),
                }
                if s.response.group != r.group or s.response.version != r.version:
                    sub["group"], sub["version"] = s.response.group, s.response.version
                entries.append(sub)
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}
