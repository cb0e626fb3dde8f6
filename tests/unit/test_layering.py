"""The import layering of docs/architecture.md, checked on every module's imports.

cli → components; only apiserver imports store; the other components import client; everything may import
api and util; nothing imports upward or sideways between components.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "kubelite"
SHARED = {"api", "util"}
COMPONENTS_ON_CLIENT = {"scheduler", "controllers", "agent", "proxy", "dns"}
ALLOWED: dict[str, set[str]] = {
    "util": set(),
    "api": {"util"},
    "store": SHARED,
    "client": SHARED,
    "apiserver": SHARED | {"store"},
    **{name: SHARED | {"client"} for name in COMPONENTS_ON_CLIENT},
    "cli": SHARED | {"apiserver", "client", *COMPONENTS_ON_CLIENT},
    "": {"cli"},  # kubelite/__init__.py and __main__.py
}


def kubelite_imports(source: str, module: str) -> set[str]:
    """Top-level kubelite packages that `module` (dotted name) imports, absolute or relative."""
    module_parts = module.split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_parts[: len(module_parts) - node.level]
                names = [".".join([*base, node.module or ""])]
            else:
                names = [node.module or ""]
        for name in names:
            parts = name.split(".")
            if parts[0] == "kubelite" and len(parts) > 1 and parts[1]:
                found.add(parts[1])
    return found


def own_package(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else ""


def test_every_package_has_a_layering_rule() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages <= set(ALLOWED), f"add a rule for {packages - set(ALLOWED)} to ALLOWED and the docs"


def test_imports_follow_the_layering() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = own_package(path)
        for imported in kubelite_imports(path.read_text(), module) - {package}:
            if imported not in ALLOWED.get(package, set()):
                violations.append(f"{module} imports kubelite.{imported}")
    assert not violations, "layering violations:\n" + "\n".join(violations)


def test_checker_sees_absolute_relative_and_lazy_imports() -> None:
    source = (
        "import kubelite.store.sqlite\n"
        "from ..client import rest\n"
        "def later():\n"
        "    from kubelite.api import selectors\n"
    )
    assert kubelite_imports(source, "kubelite.scheduler.core") == {"store", "client", "api"}
