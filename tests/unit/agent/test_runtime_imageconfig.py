"""Image config parsing, Kubernetes' command/args rules, env merging and image users."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from kubelite.agent.runtime.imageconfig import (
    DEFAULT_PATH,
    ImageConfigData,
    ResolvedUser,
    merge_env,
    parse_image_config,
    resolve_argv,
    resolve_user,
)

IMAGE = ImageConfigData(entrypoint=("/entry", "-x"), cmd=("serve", "--port=80"))


def test_parse_image_config() -> None:
    blob = orjson.dumps(
        {
            "architecture": "amd64",
            "config": {
                "Entrypoint": ["/e"],
                "Cmd": ["c"],
                "Env": ["PATH=/bin"],
                "WorkingDir": "/w",
                "User": "1000:10",
            },
        }
    )
    assert parse_image_config(blob) == ImageConfigData(("/e",), ("c",), ("PATH=/bin",), "/w", "1000:10")
    assert parse_image_config(b'{"config": {"Cmd": null}}') == ImageConfigData()
    assert parse_image_config(b"{}") == ImageConfigData()


@pytest.mark.parametrize(
    ("command", "args", "argv"),
    [
        ((), (), ("/entry", "-x", "serve", "--port=80")),
        (("/bin/sh",), (), ("/bin/sh",)),  # command drops the image's CMD too
        ((), ("other",), ("/entry", "-x", "other")),
        (("/bin/sh",), ("-c", "true"), ("/bin/sh", "-c", "true")),
    ],
)
def test_resolve_argv(command: tuple[str, ...], args: tuple[str, ...], argv: tuple[str, ...]) -> None:
    assert resolve_argv(IMAGE, command, args) == argv


def test_resolve_argv_cmd_only_image() -> None:
    assert resolve_argv(ImageConfigData(cmd=("sh",)), (), ()) == ("sh",)
    assert resolve_argv(ImageConfigData(), (), ()) == ()


def test_merge_env_pod_wins_in_place() -> None:
    merged = merge_env(["PATH=/bin", "LANG=C", "EMPTY="], [("LANG", "en"), ("NEW", "a=b")])
    assert merged == ("PATH=/bin", "LANG=en", "EMPTY=", "NEW=a=b")
    assert merge_env([], [("A", "1")]) == (f"PATH={DEFAULT_PATH}", "A=1")


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nwww:x:33:44::/var/www:/bin/false\n")
    (tmp_path / "etc/group").write_text("root:x:0:\nstaff:x:50:\n")
    return tmp_path


@pytest.mark.parametrize(
    ("user", "resolved"),
    [
        ("", ResolvedUser(0, 0)),
        ("www", ResolvedUser(33, 44)),
        ("33", ResolvedUser(33, 44)),  # a uid in passwd takes its primary group
        ("1234", ResolvedUser(1234, 0)),
        ("www:staff", ResolvedUser(33, 50)),
        ("1234:77", ResolvedUser(1234, 77)),
    ],
)
def test_resolve_user(rootfs: Path, user: str, resolved: ResolvedUser) -> None:
    assert resolve_user(user, rootfs) == resolved


def test_unknown_names_are_errors(rootfs: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unable to find user nobody"):
        resolve_user("nobody", rootfs)
    with pytest.raises(ValueError, match="unable to find group wheel"):
        resolve_user("www:wheel", rootfs)
    assert resolve_user("5", tmp_path / "missing") == ResolvedUser(5, 0)
