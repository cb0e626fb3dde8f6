"""Uninstall's steps run in order, a failure is reported and does not stop the rest; it deletes only
folders that look like kubelite's data dirs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from kubelite.agent.network import nsrecord
from kubelite.agent.uninstall import NotADataDir, Step, check_data_dir, node_steps, run_steps


async def test_every_step_runs_and_a_failed_one_is_reported() -> None:
    ran: list[str] = []

    def step(name: str, fail: bool = False) -> Step:
        async def run() -> str:
            ran.append(name)
            if fail:
                raise OSError("device busy")
            return f"{name} done"

        return Step(name, run)

    lines: list[str] = []
    ok = await run_steps([step("a"), step("b", fail=True), step("c")], lines.append)
    assert not ok and ran == ["a", "b", "c"]
    assert lines == ["[1/3] a: a done", "[2/3] b: FAILED: device busy", "[3/3] c: c done"]
    assert await run_steps([step("d")], lines.append)


def test_only_kubelite_data_dirs_are_taken(tmp_path: Path) -> None:
    check_data_dir(tmp_path / "missing")  # nothing to delete: fine
    (tmp_path / "home").mkdir()
    with pytest.raises(NotADataDir, match="not a kubelite data dir"):
        check_data_dir(tmp_path / "home")
    (tmp_path / "home" / "agent").mkdir()  # a folder that merely has an `agent` in it is not one
    with pytest.raises(NotADataDir):
        check_data_dir(tmp_path / "home")
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "kubelite.lock").touch()  # every server and agent holds it
    check_data_dir(tmp_path / "node")


def test_the_node_network_is_removed_only_in_the_namespace_the_node_recorded(tmp_path: Path) -> None:
    agent = tmp_path / "agent"
    assert nsrecord.here(agent)  # never ran: nothing recorded, nothing to protect
    nsrecord.record(agent, None)
    assert nsrecord.here(agent)  # this process's own namespace
    elsewhere = {"inode": 1, "netns": ""}
    (agent / nsrecord.RECORD).write_text(json.dumps(elsewhere))
    with pytest.raises(nsrecord.ElsewhereError, match="inside the network namespace the node ran in"):
        nsrecord.here(agent)
    (agent / nsrecord.RECORD).write_text(json.dumps({"inode": 1, "netns": "kl-gone-4d1f"}))
    assert not nsrecord.here(agent)  # the namespace is gone: its network state went with it
    [bridge] = [step for step in node_steps(tmp_path) if step.title == "pod bridge"]
    assert "network namespace is gone" in asyncio.run(bridge.run())


def test_the_callers_network_steps_run_after_the_pods_and_before_the_node_network(tmp_path: Path) -> None:
    async def nothing() -> str:
        return ""

    steps = node_steps(tmp_path, node_network=[Step("X", nothing)])
    titles = [step.title for step in steps]
    assert titles.index("pod networks (CNI DEL, netns)") + 1 == titles.index("X")
    assert titles.index("X") < titles.index("cluster DNS address")
    assert titles[-1] == "data dir"


async def test_keep_data_keeps_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "agent").mkdir()
    steps = node_steps(tmp_path, keep_data=True)
    assert await steps[-1].run() == "kept (--keep-data)"
    assert (tmp_path / "agent").is_dir()
