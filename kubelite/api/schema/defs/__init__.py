"""The definitions of every API group kubelite serves, one module per group (core split by topic).

Importing this package imports every module in it, which registers their definitions and kinds: a new
group only needs its module dropped here. Modules import what they reference, so order does not matter.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
