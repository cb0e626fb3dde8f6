"""Server-side printing for `kubectl get`: Table columns per kind.

base.py holds the registry and the generic columns; each kind registers its columns in its own module.
"""

from kubelite.apiserver.tables import core, pods
from kubelite.apiserver.tables.base import Column, Printer, human_duration, printer_for, register, table

__all__ = ["Column", "Printer", "core", "human_duration", "pods", "printer_for", "register", "table"]
