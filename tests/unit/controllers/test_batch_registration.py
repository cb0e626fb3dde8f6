"""The manager registers the DaemonSet, Job and CronJob controllers, and their factories build them."""

from __future__ import annotations

from kubelite.controllers.cronjob import CronJobController
from kubelite.controllers.daemonset import DaemonSetController
from kubelite.controllers.job import JobController
from kubelite.controllers.manager import CONTROLLERS
from tests.support.fakeclient import FakeClient, make_context


def test_registered_factories_build_the_controllers() -> None:
    factories = dict(CONTROLLERS)
    ctx = make_context(FakeClient())
    built = {name: factories[name](ctx) for name in ("daemonset", "job", "cronjob")}
    assert isinstance(built["daemonset"], DaemonSetController)
    assert isinstance(built["job"], JobController)
    assert isinstance(built["cronjob"], CronJobController)
    assert set(ctx.recorders) >= {"daemonset-controller", "job-controller", "cronjob-controller"}
