"""A real node's registration against the API server: its status from this host, its Lease kept renewed."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from kubelite.agent.node import LEASE_NAMESPACE, LEASES, NODES, NodeStatusReporter
from kubelite.api.version import KUBELET_VERSION
from kubelite.client import kubeconfig
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_node_registers_reports_conditions_and_renews_its_lease(
    apiserver: RunningServer, tmp_path: Path
) -> None:
    name = f"node-{uuid.uuid4().hex[:8]}"
    async with RestClient(kubeconfig.load(apiserver.kubeconfig)) as client:

        def reporter() -> NodeStatusReporter:
            return NodeStatusReporter(
                client,
                node_name=name,
                node_ip="127.0.0.1",
                data_dir=tmp_path,
                kubelet_port=10251,
                labels={"zone": "a"},
                taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}],
                reserved={"cpu": "100m"},
                lease_interval=0.2,
                status_interval=0.2,
            )

        first = reporter()
        registered = await first.register()
        assert await first.wait_for_pod_cidr(0.3) is None
        # The node IPAM controller's part, played by the test.
        await client.patch(NODES, name, {"spec": {"podCIDR": "10.42.7.0/24", "podCIDRs": ["10.42.7.0/24"]}})
        assert await first.wait_for_pod_cidr(5) == "10.42.7.0/24"

        node = await client.get(NODES, name)
        assert node["metadata"]["labels"]["zone"] == "a"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == name
        assert node["spec"]["taints"] == [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]
        status = node["status"]
        assert status["capacity"]["cpu"] == str(os.cpu_count())
        assert status["allocatable"]["pods"] == "110"
        assert status["nodeInfo"]["kubeletVersion"] == KUBELET_VERSION
        assert status["nodeInfo"]["containerRuntimeVersion"] == "crun://1.8.1"
        boot_id = await asyncio.to_thread(Path("/proc/sys/kernel/random/boot_id").read_text)
        assert status["nodeInfo"]["bootID"] == boot_id.strip()
        assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10251
        assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
        lease = await client.get(LEASES, name, namespace=LEASE_NAMESPACE)
        assert lease["metadata"]["ownerReferences"][0]["uid"] == registered["metadata"]["uid"]
        assert "Ready" in apiserver.kubectl("get", "node", name).stdout

        task = asyncio.create_task(first.run())
        try:
            renewed = lease["spec"]["renewTime"]

            async def lease_moved() -> bool:
                current = await client.get(LEASES, name, namespace=LEASE_NAMESPACE)
                return bool(current["spec"]["renewTime"] != renewed)

            await eventually(lease_moved, "the lease renewed")
            assert await first.post_status() is False  # unchanged: not re-posted before the report interval

            first.not_ready = "container runtime is down"

            async def not_ready() -> bool:
                conditions = (await client.get(NODES, name))["status"]["conditions"]
                by_type = {c["type"]: c for c in conditions}
                return bool(by_type["Ready"]["status"] == "False")

            await eventually(not_ready, "Ready=False posted")
            conditions = {c["type"]: c for c in (await client.get(NODES, name))["status"]["conditions"]}
            assert conditions["Ready"]["reason"] == "KubeletNotReady"
            assert conditions["Ready"]["message"] == "container runtime is down"
            before = {c["type"]: c for c in status["conditions"]}
            assert (
                conditions["MemoryPressure"]["lastTransitionTime"]
                == before["MemoryPressure"]["lastTransitionTime"]
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        # An agent restart takes the node and its Lease over.
        second = reporter()
        again = await second.register()
        assert again["metadata"]["uid"] == registered["metadata"]["uid"]
        assert second.pod_cidr == "10.42.7.0/24"
        assert await second.lease.renew()
