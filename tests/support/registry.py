"""A real registry (Debian's docker-registry) on 127.0.0.1 and tiny busybox images built with umoci.

The packaged config wants htpasswd and every interface, so each registry gets its own config.yml with
filesystem storage in a temp dir; it is killed by pid on exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from tests.support.etcd import free_port

REGISTRY_BINARY = "/usr/bin/docker-registry"
BUSYBOX_BINARY = "/bin/busybox"


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def build_busybox_layout(layout: Path, *, tag: str = "latest", files: dict[str, str] | None = None) -> Path:
    """An OCI layout at `layout` holding `tag`: busybox-static, an absolute /bin/sh symlink, extra `files`."""
    bundle = layout.parent / f"{layout.name}-bundle-{tag}"
    image = f"{layout}:{tag}"
    if not layout.exists():
        _run("umoci", "init", "--layout", str(layout))
    _run("umoci", "new", "--image", image)
    _run("umoci", "unpack", "--rootless", "--image", image, str(bundle))
    rootfs = bundle / "rootfs"
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX_BINARY, rootfs / "bin" / "busybox")
    (rootfs / "bin" / "sh").symlink_to("/bin/busybox")
    for name, content in (files or {}).items():
        (rootfs / name).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / name).write_text(content)
    _run("umoci", "repack", "--image", image, str(bundle))
    _run("umoci", "config", "--image", image, "--config.cmd", "/bin/sh")
    _run("umoci", "gc", "--layout", str(layout))
    shutil.rmtree(bundle)
    return layout


def skopeo_copy(source: str, destination: str) -> None:
    _run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
         source, destination)


class LocalRegistry:
    """docker-registry serving plain HTTP on a free loopback port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        storage = self.directory / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config = self.directory / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: error}\n"
            f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '{self.host}'}}\n"
        )
        self.process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    raise RuntimeError(f"docker-registry exited with {self.process.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not become ready in 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def __enter__(self) -> LocalRegistry:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
