"""Where the Kubernetes documentation's manifests are: ../shared/k8s-examples beside the repository.

CI lays shared/ beside its clone, sessions have it at /work/shared. A run without it skips the corpus
tests, except under CI, where a missing corpus is an error rather than a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = (_REPO.parent / "shared" / "k8s-examples", Path("/work/shared/k8s-examples"))

EXAMPLES = next((path for path in _CANDIDATES if path.is_dir()), _CANDIDATES[0])


def require_examples() -> Path:
    if not EXAMPLES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the manifest corpus is missing: looked in {', '.join(map(str, _CANDIDATES))}")
        pytest.skip("the manifest corpus (../shared/k8s-examples) is not here")
    return EXAMPLES
