"""Where the Kubernetes documentation's manifests are: ../shared/k8s-examples beside the repository.

CI lays shared/ beside its clone, sessions have it at /work/shared. A run without it skips the corpus
tests, except under CI, where a missing corpus is an error rather than a silent skip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = (_REPO.parent / "shared" / "k8s-examples", Path("/work/shared/k8s-examples"))

EXAMPLES = next((path for path in _CANDIDATES if path.is_dir()), _CANDIDATES[0])


def require_examples() -> Path:
    if not EXAMPLES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the manifest corpus is missing: looked in {', '.join(map(str, _CANDIDATES))}")
        pytest.skip("the manifest corpus (../shared/k8s-examples) is not here")
    return EXAMPLES


@dataclass(frozen=True)
class ExampleDocument:
    where: str  # "<path relative to the corpus>#<document index>"
    group: str
    version: str
    kind: str
    document: dict[str, Any]


def example_documents() -> list[ExampleDocument]:
    """Every YAML document of the corpus that is an object, in path order ([] without the corpus)."""
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # SOURCE.md: a few files are deliberately not YAML (for PyYAML)
        for index, document in enumerate(documents):
            if isinstance(document, dict):
                group, _, version = str(document.get("apiVersion") or "").rpartition("/")
                kind = str(document.get("kind") or "")
                where = f"{path.relative_to(EXAMPLES)}#{index}"
                found.append(ExampleDocument(where, group, version, kind, document))
    return found
