"""Resource quantities (`500m`, `1.5Gi`, `1e3`): exact values, comparison and upstream's canonical spelling.

Validation compares requests with limits and LimitRange bounds, and its messages quote quantities the way
resource.Quantity.String() spells them ("1536Mi" for 1.5Gi, "500m" for 0.5, "1k" for 1000), so the value
is kept exact (a Fraction) together with the notation it was written in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_NUMBER = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")
_NANO = 10**9


@dataclass(frozen=True, slots=True, order=True)
class Quantity:
    value: Fraction
    notation: str = DECIMAL_SI

    def __str__(self) -> str:
        return canonical(self)

    @property
    def is_integer(self) -> bool:
        return self.value.denominator == 1


def parse(text: str | int | float) -> Quantity:
    """A quantity from its string (or JSON number) form; ValueError when it is not one."""
    if isinstance(text, bool):
        raise ValueError("not a quantity")
    if isinstance(text, int | float):
        text = str(text) if isinstance(text, int) else repr(text)
    match = _NUMBER.match(text.strip())
    if not match or not (match.group(2) or match.group(3)):
        raise ValueError(f"quantities must match the regular expression: {text!r}")
    sign, whole, fraction, suffix = match.groups()
    digits = Fraction(int(whole or "0")) + (Fraction(int(fraction), 10 ** len(fraction)) if fraction else 0)
    if suffix in _DECIMAL_SUFFIXES:
        value, notation = digits * Fraction(10) ** _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    elif suffix in _BINARY_SUFFIXES:
        value, notation = digits * 2 ** _BINARY_SUFFIXES[suffix], BINARY_SI
    elif exponent := _EXPONENT.match(suffix):
        value, notation = digits * Fraction(10) ** int(exponent.group(1)), DECIMAL_EXPONENT
    else:
        raise ValueError(f"unable to parse quantity's suffix: {text!r}")
    # Upstream keeps nano precision at most, rounding away from zero.
    value = Fraction(math.ceil(value * _NANO), _NANO)
    return Quantity(-value if sign == "-" else value, notation)


def canonical(quantity: Quantity) -> str:
    """resource.Quantity.String(): the shortest exact spelling in the quantity's own notation."""
    value = quantity.value
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if quantity.notation == BINARY_SI and magnitude >= 1024 and magnitude.denominator == 1:
        amount, power = int(magnitude), 0
        while amount % 1024 == 0 and power < 6:
            amount //= 1024
            power += 1
        return f"{sign}{amount}{['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][power]}"
    mantissa, exponent = int(magnitude * _NANO), -9
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    # Exponents are shown in steps of three.
    mantissa *= 10 ** (exponent % 3)
    exponent -= exponent % 3
    if quantity.notation == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    suffix = {power: name for name, power in _DECIMAL_SUFFIXES.items()}.get(exponent)
    return f"{sign}{mantissa}{suffix}" if suffix is not None else f"{sign}{mantissa}e{exponent}"
