"""The controller manager: every controller in one process, started only while this process leads.

Each controller module contributes one factory to CONTROLLERS (listed explicitly below). A factory gets
the shared context (client, informer factory, per-component event recorders, settings) and returns
something with `async run()`. Factories only wire informers and handlers; the informers start once every
controller has asked for its own, so controllers share one watch per resource.

Leader election on the Lease kube-system/kubelite-controller-manager keeps two servers sharing a store from
running the same controllers at once; losing the lease stops the manager (and so the process, under the
supervisor), as in kube-controller-manager.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.client.informer import InformerFactory
from kubelite.client.leaderelection import LeaderElector, LeaseLock
from kubelite.client.rest import RestClient
from kubelite.controllers.context import ControllerContext, ControllerFactory, ManagerConfig
from kubelite.controllers.cronjob import new_controller as new_cronjob_controller
from kubelite.controllers.daemonset import new_controller as new_daemonset_controller
from kubelite.controllers.deployment import new_controller as new_deployment_controller
from kubelite.controllers.endpoints import new_controller as new_endpoints_controller
from kubelite.controllers.endpointslice import new_controller as new_endpointslice_controller
from kubelite.controllers.garbagecollector import new_controller as new_garbage_collector
from kubelite.controllers.job import new_controller as new_job_controller
from kubelite.controllers.localpath import new_controller as new_localpath_provisioner
from kubelite.controllers.namespace import new_controller as new_namespace_controller
from kubelite.controllers.nodeipam import new_controller as new_nodeipam_controller
from kubelite.controllers.nodelifecycle import new_controller as new_nodelifecycle_controller
from kubelite.controllers.persistentvolume import new_controller as new_persistentvolume_controller
from kubelite.controllers.pvcprotection import new_pv_protection as new_pv_protection_controller
from kubelite.controllers.pvcprotection import new_pvc_protection as new_pvc_protection_controller
from kubelite.controllers.replicaset import new_controller as new_replicaset_controller
from kubelite.controllers.replicaset import new_replication_controller
from kubelite.controllers.resourcequota import new_controller as new_resourcequota_controller
from kubelite.controllers.rootcacert import new_controller as new_rootcacert_controller
from kubelite.controllers.serviceaccount import new_controller as new_serviceaccount_controller
from kubelite.controllers.servicelb import new_controller as new_servicelb_controller
from kubelite.controllers.statefulset import new_controller as new_statefulset_controller

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "kubelite-controller-manager"


# (name, factory), in start order: one line per controller module.
CONTROLLERS: list[tuple[str, ControllerFactory]] = [
    ("garbagecollector", new_garbage_collector),
    ("namespace", new_namespace_controller),
    ("serviceaccount", new_serviceaccount_controller),
    ("nodelifecycle", new_nodelifecycle_controller),
    ("nodeipam", new_nodeipam_controller),
    ("endpoint", new_endpoints_controller),
    ("endpointslice", new_endpointslice_controller),
    ("servicelb", new_servicelb_controller),
    ("daemonset", new_daemonset_controller),
    ("job", new_job_controller),
    ("cronjob", new_cronjob_controller),
    ("replicaset", new_replicaset_controller),
    ("replicationcontroller", new_replication_controller),
    ("deployment", new_deployment_controller),
    ("statefulset", new_statefulset_controller),
    ("root-ca-cert-publisher", new_rootcacert_controller),
    ("resourcequota", new_resourcequota_controller),
    ("persistentvolume-binder", new_persistentvolume_controller),
    ("pvc-protection", new_pvc_protection_controller),
    ("pv-protection", new_pv_protection_controller),
    ("local-path-provisioner", new_localpath_provisioner),
]


async def run_controllers(ctx: ControllerContext, *, names: set[str] | None = None) -> None:
    """Build every (or every named) controller, start the shared informers, run until cancelled."""
    chosen = [(name, make(ctx)) for name, make in CONTROLLERS if names is None or name in names]
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(ctx.informers.run(), name="informers")
        for name, controller in chosen:
            tasks.create_task(controller.run(), name=f"controller {name}")
        for component, recorder in ctx.recorders.items():
            tasks.create_task(recorder.run(), name=f"events {component}")
        log.info("started %d controllers: %s", len(chosen), ", ".join(name for name, _ in chosen))


async def run(config: ManagerConfig) -> None:
    """Wait for leadership, then run every controller until leadership is lost or the task is cancelled."""
    agent = "kubelite-controller-manager"
    async with RestClient.from_kubeconfig(config.kubeconfig, user_agent=agent) as client:
        informers = InformerFactory(client, drop_managed_fields=True)  # no controller reads them
        ctx = ControllerContext(client=client, informers=informers, config=config)
        elector = LeaderElector(
            LeaseLock(client, namespace=LEASE_NAMESPACE, name=LEASE_NAME), identity=config.identity
        )
        await elector.run(lambda: run_controllers(ctx))
