"""The two ranges Services draw from, and the order in which automatic allocation tries their values.

Both ranges split like upstream's allocators: a small low band that automatic allocation uses only once
the rest is full, so values users pick by hand rarely collide with generated ones. Within a band the scan
starts at a random offset.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_IPV6_VALUES = 2**16  # upstream's bitmap caps a large IPv6 range


def _static_band(size: int, *, step: int, cap: int) -> int:
    """min(max(16, size/step), cap) values at the bottom; none in a range smaller than 16."""
    return 0 if size < 16 else min(max(16, size // step), cap)


def _scan_order(size: int, static_band: int) -> Iterator[int]:
    """Every offset of [0, size): the upper band from a random start, then the static band likewise."""
    for low, high in ((static_band, size), (0, static_band)):
        span = high - low
        if span <= 0:
            continue
        start = random.randrange(span)
        for step in range(span):
            yield low + (start + step) % span


@dataclass(frozen=True)
class IPRange:
    """The usable addresses of the service CIDR: all but the network (and IPv4 broadcast) address."""

    network: IPNetwork

    @classmethod
    def parse(cls, cidr: str) -> IPRange:
        """ValueError when `cidr` is not a network or leaves no usable address."""
        network = ipaddress.ip_network(cidr.strip(), strict=False)
        found = cls(network)
        if found.size < 1:
            raise ValueError(f"{cidr} has no usable address")
        return found

    def __str__(self) -> str:
        return str(self.network)

    @property
    def family(self) -> str:
        return "IPv4" if self.network.version == 4 else "IPv6"

    @property
    def size(self) -> int:
        if self.network.version == 4:
            return max(self.network.num_addresses - 2, 0)
        return min(self.network.num_addresses - 1, _MAX_IPV6_VALUES)

    def address(self, offset: int) -> str:
        return str(self.network.network_address + 1 + offset)

    def offset(self, address: str) -> int | None:
        """The offset of `address` in the range; None when it is not an address of the range."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        offset = int(ip) - int(self.network.network_address) - 1
        return offset if ip.version == self.network.version and 0 <= offset < self.size else None

    def candidates(self) -> Iterator[str]:
        band = _static_band(self.size, step=16, cap=256)
        return (self.address(offset) for offset in _scan_order(self.size, band))


@dataclass(frozen=True)
class PortRange:
    """The node port range, `30000-32767` by default (both ends included)."""

    base: int
    size: int

    @classmethod
    def parse(cls, text: str) -> PortRange:
        first, _, last = text.strip().partition("-")
        low, high = int(first), int(last or first)
        if not 0 < low <= high <= 65535:
            raise ValueError(f"{text!r} is not a port range")
        return cls(low, high - low + 1)

    def __str__(self) -> str:
        return f"{self.base}-{self.base + self.size - 1}"

    def contains(self, port: int) -> bool:
        return self.base <= port < self.base + self.size

    def candidates(self) -> Iterator[int]:
        band = _static_band(self.size, step=32, cap=128)
        return (self.base + offset for offset in _scan_order(self.size, band))
