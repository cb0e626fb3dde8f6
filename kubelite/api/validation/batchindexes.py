"""Indexed Jobs' own rules: backoffLimitPerIndex with maxFailedIndexes, and successPolicy (upstream 1.32).

Index sets are written as in status.completedIndexes (`1,3-5,7`); `indexes_format` checks one the way
upstream's validateIndexesFormat does, with its wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e

MAX_FAILED_INDEXES = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000
MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS = 10_000
MAX_SUCCESS_POLICY_RULES = 20
MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024
_INTEGER = re.compile(r"[+-]?[0-9]+")


class IndexesError(ValueError):
    pass


def _integer(text: str, completions: int) -> int:
    if not _INTEGER.fullmatch(text):
        raise IndexesError(f"cannot convert string to integer for index: {e.go_quote(text)}")
    value = int(text)
    if value >= completions:
        raise IndexesError(f"too large index: {e.go_quote(text)}")
    return value


def indexes_format(text: str, completions: int) -> int:
    """How many indexes `text` lists; raises IndexesError with upstream's message if it is malformed."""
    if not text:
        return 0
    total, last = 0, None
    for interval in text.split(","):
        limits = interval.split("-")
        if len(limits) > 2:
            raise IndexesError(
                f"the fragment {e.go_quote(interval)} violates the requirement that an index interval can "
                "have at most two parts separated by '-'"
            )
        first = _integer(limits[0], completions)
        end = first
        if len(limits) == 2:
            end = _integer(limits[1], completions)
            if first >= end:
                raise IndexesError(f"non-increasing order, previous: {first}, current: {end}")
        if last is not None and last >= first:
            raise IndexesError(f"non-increasing order, previous: {last}, current: {first}")
        total += end - first + 1
        last = end
    return total


def per_index_limits(spec: Mapping[str, Any], path: str) -> list[Cause]:
    """The limits an Indexed Job puts on maxFailedIndexes and, with many completions, on parallelism."""
    found: list[Cause] = []
    completions, limit = spec.get("completions"), spec.get("maxFailedIndexes")
    parallelism = spec.get("parallelism")
    if completions is not None and limit is not None and limit > completions:
        found.append(
            e.invalid(e.child(path, "maxFailedIndexes"), limit, "must be less than or equal to completions")
        )
    if limit is not None and limit > MAX_FAILED_INDEXES:
        detail = f"must be less than or equal to {MAX_FAILED_INDEXES}"
        found.append(e.invalid(e.child(path, "maxFailedIndexes"), limit, detail))
    if (
        completions is None
        or completions <= COMPLETIONS_SOFT_LIMIT
        or spec.get("backoffLimitPerIndex") is None
    ):
        return found
    if limit is None:
        detail = f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}"
        found.append(e.required(e.child(path, "maxFailedIndexes"), detail))
    high = f"when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
    if parallelism is not None and parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS:
        detail = f"must be less than or equal to {PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} {high}"
        found.append(e.invalid(e.child(path, "parallelism"), parallelism, detail))
    if limit is not None and limit > MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS:
        detail = f"must be less than or equal to {MAX_FAILED_INDEXES_FOR_HIGH_COMPLETIONS} {high}"
        found.append(e.invalid(e.child(path, "maxFailedIndexes"), limit, detail))
    return found


def _go_policy(policy: Mapping[str, Any]) -> e.GoValue:
    """How Go prints the internal SuccessPolicy (pointers shown by their values: Go's addresses vary)."""
    rules = []
    for rule in policy.get("rules") or ():
        indexes, count = rule.get("succeededIndexes"), rule.get("succeededCount")
        shown_indexes = "(*string)(nil)" if indexes is None else f"&{e.go_quote(str(indexes))}"
        shown_count = "(*int32)(nil)" if count is None else f"&{count}"
        rules.append(
            f"batch.SuccessPolicyRule{{SucceededIndexes:{shown_indexes}, SucceededCount:{shown_count}}}"
        )
    return e.GoValue("batch.SuccessPolicy{Rules:[]batch.SuccessPolicyRule{" + ", ".join(rules) + "}}")


def success_policy(spec: Mapping[str, Any], path: str) -> list[Cause]:
    policy = spec.get("successPolicy") or {}
    if spec.get("completionMode") != "Indexed":
        return [e.invalid(path, _go_policy(policy), "requires indexed completion mode")]
    rules = policy.get("rules") or []
    where = e.child(path, "rules")
    found: list[Cause] = []
    if not rules:
        found.append(
            e.required(where, "at least one rules must be specified when the successPolicy is specified")
        )
    if len(rules) > MAX_SUCCESS_POLICY_RULES:
        found.append(e.too_many(where, len(rules), MAX_SUCCESS_POLICY_RULES))
    completions = int(spec.get("completions") or 0)
    for i, rule in enumerate(rules):
        found += _success_rule(rule, e.index(where, i), completions)
    return found


def _success_rule(rule: Mapping[str, Any], at: str, completions: int) -> list[Cause]:
    found: list[Cause] = []
    indexes, count = rule.get("succeededIndexes"), rule.get("succeededCount")
    if indexes is None and count is None:
        found.append(e.required(at, "at least one of succeededCount or succeededIndexes must be specified"))
    total = 0
    if indexes is not None:
        where = e.child(at, "succeededIndexes")
        if len(indexes) > MAX_SUCCEEDED_INDEXES_LENGTH:
            found.append(e.too_long(where, MAX_SUCCEEDED_INDEXES_LENGTH))
        try:
            total = indexes_format(indexes, completions)
        except IndexesError as error:
            found.append(e.invalid(where, indexes, f"error parsing succeededIndexes: {error}"))
    if count is not None:
        where = e.child(at, "succeededCount")
        found += e.non_negative(where, count)
        if count > completions:
            detail = f"must be less than or equal to {completions} (the number of specified completions)"
            found.append(e.invalid(where, count, detail))
        if indexes is not None and count > total:
            detail = (
                f"must be less than or equal to {total} (the number of indexes in the specified "
                "succeededIndexes field)"
            )
            found.append(e.invalid(where, count, detail))
    return found
