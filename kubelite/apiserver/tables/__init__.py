"""Server-side printing for `kubectl get`: Table columns per kind.

base.py holds the registry and the generic columns, formats.py the cell formats kinds share; each kind
registers its columns in its group's module (importing the module registers them).
"""

from kubelite.apiserver.tables import batch, core, events, nodes, pods, policy, services, storage, workloads
from kubelite.apiserver.tables.base import Column, Printer, human_duration, printer_for, register, table

__all__ = [
    "Column",
    "Printer",
    "batch",
    "core",
    "events",
    "human_duration",
    "nodes",
    "pods",
    "policy",
    "printer_for",
    "register",
    "services",
    "storage",
    "table",
    "workloads",
]
