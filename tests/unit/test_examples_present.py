"""The corpus tests skip without ../shared/k8s-examples; this one makes CI fail instead of skipping them."""

from tests.support.examples import require_examples


def test_manifest_corpus_is_present() -> None:
    assert any(require_examples().rglob("*.yaml"))
