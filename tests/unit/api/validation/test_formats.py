"""The building blocks: how bad values print, the name formats' messages, and quantities."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kubelite.api.quantity import parse
from kubelite.api.validation import errors as e
from kubelite.api.validation import names

from .builders import LABEL_MSG, NAME_PART_MSG, SUBDOMAIN_MSG


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("web", '"web"'),
        ('say "hi"\n', '"say \\"hi\\"\\n"'),
        ("café", '"café"'),
        ("\x01", '"\\x01"'),
        (80, "80"),
        (True, "true"),
        (None, "null"),
        (1.5, "1.5"),
        (2.0, "2"),
        (e.go_map({"b": "2", "a": "1"}), 'map[string]string{"a":"1", "b":"2"}'),
        (e.go_map(None), "map[string]string(nil)"),
        (e.go_strings(["a", "b"]), '[]string{"a", "b"}'),
        (
            e.go_selector({"matchLabels": {"app": "web"}}),
            'v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, '
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
        ),
        (
            e.go_selector({"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}),
            "v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement"
            '{v1.LabelSelectorRequirement{Key:"k", Operator:"In", Values:[]string{"v"}}}}',
        ),
        (e.go_int_or_string("150%"), 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}'),
        (e.go_int_or_string(3), 'intstr.IntOrString{Type:0, IntVal:3, StrVal:""}'),
    ],
)
def test_bad_values_print_as_go_prints_them(value: object, rendered: str) -> None:
    assert e.render(value) == rendered


def test_each_error_type_words_its_message_like_field_error() -> None:
    assert e.required("spec.x").message == "Required value"
    assert e.required("spec.x", "why").message == "Required value: why"
    assert e.invalid("spec.x", "v", "why").message == 'Invalid value: "v": why'
    assert (
        e.not_supported("spec.x", "v", ("A", "B")).message
        == 'Unsupported value: "v": supported values: "A", "B"'
    )
    assert e.duplicate("spec.x", "v").message == 'Duplicate value: "v"'
    assert e.not_found("spec.x", "v").message == 'Not found: "v"'
    assert e.forbidden("spec.x", "why").message == "Forbidden: why"
    assert e.too_long("data", 1048576).message == "Too long: may not be more than 1048576 bytes"
    assert e.too_many("rules", 21, 20).message == "Too many: 21: must have at most 20 items"
    reasons = [
        e.required("a").reason,
        e.invalid("a", 1, "x").reason,
        e.not_supported("a", 1, ()).reason,
        e.duplicate("a", 1).reason,
        e.forbidden("a", "x").reason,
        e.too_long("a", 1).reason,
        e.not_found("a", 1).reason,
    ]
    assert reasons == [
        "FieldValueRequired",
        "FieldValueInvalid",
        "FieldValueNotSupported",
        "FieldValueDuplicate",
        "FieldValueForbidden",
        "FieldValueTooLong",
        "FieldValueNotFound",
    ]


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (names.is_dns1123_subdomain, "my-app.example.com", []),
        (names.is_dns1123_subdomain, "My_App", [SUBDOMAIN_MSG]),
        (names.is_dns1123_subdomain, "a" * 254, ["must be no more than 253 characters"]),
        (names.is_dns1123_label, "web-1", []),
        (names.is_dns1123_label, "web.1", ["must not contain dots"]),
        (names.is_dns1123_label, "-web", [LABEL_MSG]),
        (names.is_dns1123_label, "a" * 64, ["must be no more than 63 characters"]),
        (names.is_qualified_name, "example.com/my-key", []),
        (names.is_qualified_name, "my key", [NAME_PART_MSG]),
        (names.is_qualified_name, "/key", ["prefix part must be non-empty"]),
        (names.is_qualified_name, "Example.com/key", ["prefix part " + SUBDOMAIN_MSG]),
        (
            names.is_qualified_name,
            "a/b/c",
            [
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
                "and end "
                "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
                "prefix "
                "and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (names.is_valid_port_name, "http", []),
        (names.is_valid_port_name, "8080", ["must contain at least one letter (a-z)"]),
        (
            names.is_valid_port_name,
            "web--http-endpoint-x",
            [
                "must be no more than 15 characters",
                "must not contain consecutive hyphens",
            ],
        ),
        (names.is_valid_port_num, 0, ["must be between 1 and 65535, inclusive"]),
        (names.is_env_var_name, "MY.VAR-1", []),
        (
            names.is_env_var_name,
            "A=B",
            [
                "a valid environment variable name must consist only of printable ASCII characters other "
                "than '='"
            ],
        ),
        (names.is_valid_ip, "010.000.000.001", []),
        (names.is_valid_ip, "10.0.0.256", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]),
    ],
)
def test_formats_report_upstreams_problems(check: object, value: object, expected: list[str]) -> None:
    assert check(value) == expected  # type: ignore[operator]


def test_generate_name_prefixes_may_end_in_a_dash() -> None:
    assert names.name_is_dns_subdomain("web-", True) == []
    assert names.name_is_dns_subdomain("web-", False) == [SUBDOMAIN_MSG]


@pytest.mark.parametrize(
    ("text", "canonical", "value"),
    [
        ("500m", "500m", Fraction(1, 2)),
        ("0.5", "500m", Fraction(1, 2)),
        (0.25, "250m", Fraction(1, 4)),
        ("1000m", "1", Fraction(1)),
        ("1000", "1k", Fraction(1000)),
        (1, "1", Fraction(1)),
        ("1.5Gi", "1536Mi", Fraction(3 * 2**29)),
        ("1024Mi", "1Gi", Fraction(2**30)),
        ("100Mi", "100Mi", Fraction(100 * 2**20)),
        ("512", "512", Fraction(512)),
        ("1e3", "1e3", Fraction(1000)),
        ("129e6", "129e6", Fraction(129 * 10**6)),
        ("128974848", "128974848", Fraction(128974848)),
        ("-1", "-1", Fraction(-1)),
        ("0", "0", Fraction(0)),
        ("1n", "1n", Fraction(1, 10**9)),
        ("0.1n", "1n", Fraction(1, 10**9)),
    ],
)
def test_quantities_parse_exactly_and_print_canonically(
    text: str | int | float, canonical: str, value: Fraction
) -> None:
    quantity = parse(text)
    assert quantity.value == value
    assert str(quantity) == canonical


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "5Qi", "m", "1e"])
def test_malformed_quantities_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)
