"""Sub-commands of `equime`, one module each, found by name: adding a command is adding a file.

A command module defines `ORDER` (its place in `equime --help`) and `add_parser(sub)`, which adds
its sub-parser and sets `run=<function(args) -> exit status>`. Modules import their heavy
dependencies inside `run`, so `equime --help` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def command_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
