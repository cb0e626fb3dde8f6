"""Validation of Indexed Jobs' backoffLimitPerIndex, maxFailedIndexes, FailIndex rules and successPolicy, and
of podFailurePolicy requirements."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.validation.batchindexes import IndexesError, indexes_format

from .builders import job, problems

INDEXED = {"completionMode": "Indexed", "completions": 5}


def policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("per-index limits", job(**INDEXED, backoffLimitPerIndex=1, maxFailedIndexes=2), []),
    (
        "per-index limits need indexed completion",
        job(backoffLimitPerIndex=1, maxFailedIndexes=2),
        [
            ("spec.backoffLimitPerIndex", "Invalid value: 1: requires indexed completion mode"),
            ("spec.maxFailedIndexes", "Invalid value: 2: requires indexed completion mode"),
        ],
    ),
    (
        "maxFailedIndexes needs backoffLimitPerIndex and at most completions",
        job(**INDEXED, maxFailedIndexes=6),
        [
            ("spec.backoffLimitPerIndex", "Required value: when maxFailedIndexes is specified"),
            ("spec.maxFailedIndexes", "Invalid value: 6: must be less than or equal to completions"),
        ],
    ),
    (
        "many completions with per-index limits",
        job(completionMode="Indexed", completions=200_000, parallelism=20_000, backoffLimitPerIndex=0),
        [
            ("spec.maxFailedIndexes", "Required value: must be specified when completions is above 100000"),
            (
                "spec.parallelism",
                "Invalid value: 20000: must be less than or equal to 10000 when completions are above 100000 "
                "and used with backoff limit per index",
            ),
        ],
    ),
    (
        "FailIndex needs backoffLimitPerIndex",
        job(
            **INDEXED,
            podFailurePolicy=policy(
                {"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [3]}}
            ),
        ),
        [
            (
                "spec.podFailurePolicy.rules[0].action",
                'Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
            )
        ],
    ),
    (
        "FailIndex with backoffLimitPerIndex",
        job(
            **INDEXED,
            backoffLimitPerIndex=0,
            podFailurePolicy=policy(
                {"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [3]}}
            ),
        ),
        [],
    ),
    (
        "pod failure policy requirements",
        job(
            podFailurePolicy=policy(
                {"action": "Ignore", "onExitCodes": {"operator": "", "values": [1]}},
                {"action": "Count", "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}]},
            )
        ),
        [
            (
                "spec.podFailurePolicy.rules[0].onExitCodes.operator",
                'Required value: valid values: ["In" "NotIn"]',
            ),
            (
                "spec.podFailurePolicy.rules[1].onPodConditions[0].status",
                'Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
            ),
        ],
    ),
    (
        "a success policy",
        job(**INDEXED, successPolicy=policy({"succeededIndexes": "0,2-4", "succeededCount": 2})),
        [],
    ),
    (
        "a success policy needs indexed completion",
        job(successPolicy=policy({"succeededCount": 1})),
        [
            (
                "spec.successPolicy",
                "Invalid value: batch.SuccessPolicy{Rules:[]batch.SuccessPolicyRule{batch.SuccessPolicyRule{"
                "SucceededIndexes:(*string)(nil), SucceededCount:&1}}}: requires indexed completion mode",
            )
        ],
    ),
    (
        "a success policy needs rules",
        job(**INDEXED, successPolicy=policy()),
        [
            (
                "spec.successPolicy.rules",
                "Required value: at least one rules must be specified when the successPolicy is specified",
            )
        ],
    ),
    (
        "success policy rules",
        job(
            **INDEXED,
            successPolicy=policy(
                {},
                {"succeededIndexes": "1-7"},
                {"succeededIndexes": "1,3", "succeededCount": 3},
                {"succeededCount": -1},
                {"succeededCount": 6},
            ),
        ),
        [
            (
                "spec.successPolicy.rules[0]",
                "Required value: at least one of succeededCount or succeededIndexes must be specified",
            ),
            (
                "spec.successPolicy.rules[1].succeededIndexes",
                'Invalid value: "1-7": error parsing succeededIndexes: too large index: "7"',
            ),
            (
                "spec.successPolicy.rules[2].succeededCount",
                "Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified "
                "succeededIndexes field)",
            ),
            (
                "spec.successPolicy.rules[3].succeededCount",
                "Invalid value: -1: must be greater than or equal to 0",
            ),
            (
                "spec.successPolicy.rules[4].succeededCount",
                "Invalid value: 6: must be less than or equal to 5 (the number of specified completions)",
            ),
        ],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CASES, ids=[case[0] for case in CASES])
def test_indexed_job_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,1", "non-increasing order, previous: 1, current: 1"),
        ("3-2", "non-increasing order, previous: 3, current: 2"),
        (
            "1-2-3",
            'the fragment "1-2-3" violates the requirement that an index interval can have at most two '
            "parts separated by '-'",
        ),
        ("a", 'cannot convert string to integer for index: "a"'),
        ("1,,2", 'cannot convert string to integer for index: ""'),
    ],
)
def test_index_sets_are_checked_with_upstream_wording(text: str, message: str) -> None:
    with pytest.raises(IndexesError, match="^" + message.replace("(", r"\(") + "$"):
        indexes_format(text, 10)


def test_index_sets_count_their_indexes() -> None:
    assert indexes_format("", 3) == 0
    assert indexes_format("0,2-4,7", 8) == 5
