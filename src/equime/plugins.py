"""Finding registered parts (generators, models, datasets, annotators) without a list to edit.

A part registers itself with a decorator (`@register_generator("warp")`). Two places are searched:
the modules of the package itself, read as text (ast) so that a heavy module (the LTX backend pulls
in torch and diffusers) is imported only when its part is asked for; and a Python entry-point
group, so a third-party package adds a part by declaring, in its pyproject.toml,

    [project.entry-points."equime.generators"]
    mine = "my_package.my_module"

(loading the entry point imports the module, whose decorator registers it; see
https://packaging.python.org/en/latest/specifications/entry-points/).
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import logging
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)


@functools.cache
def registered_in(package: str, decorator: str) -> dict[str, str]:
    """name -> module for every `@decorator("name")` in the package's own modules, not imported."""
    spec = importlib.util.find_spec(package)
    found: dict[str, str] = {}
    for folder in spec.submodule_search_locations or []:
        for path in sorted(Path(folder).glob("*.py")):
            if path.stem.startswith("_"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and _called_name(node.func) == decorator
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.setdefault(str(node.args[0].value), f"{package}.{path.stem}")
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=group)}


def load_part(package: str, decorator: str, group: str, name: str) -> bool:
    """Import whatever registers `name` (own module first, then an entry point); False if none."""
    module = registered_in(package, decorator).get(name)
    if module is not None:
        importlib.import_module(module)
        return True
    ep = entry_points(group).get(name)
    if ep is None:
        return False
    ep.load()
    return True


def load_all(package: str, decorator: str, group: str) -> None:
    """Import every part of the package and of the entry-point group (for listings)."""
    for module in sorted(set(registered_in(package, decorator).values())):
        importlib.import_module(module)
    for ep in entry_points(group).values():
        try:
            ep.load()
        except Exception as exc:  # a broken plug-in must not hide the built-in parts
            log.warning("entry point %s (%s) failed to load: %s", ep.name, group, exc)


def known_names(package: str, decorator: str, group: str) -> list[str]:
    return sorted(set(registered_in(package, decorator)) | set(entry_points(group)))
