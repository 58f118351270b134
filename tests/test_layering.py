"""The package order of docs/ARCHITECTURE.md, enforced: each package imports only from below it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "equime"
DOC = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"


def documented_layers() -> list[set[str]]:
    """The numbered list under '## Package order' in ARCHITECTURE.md, bottom first."""
    text = DOC.read_text(encoding="utf-8").split("## Package order", 1)[1].split("\n## ", 1)[0]
    layers = []
    for line in text.splitlines():
        m = re.match(r"\s*\d+\.\s+(.*)", line)
        if m:
            layers.append(set(re.findall(r"`([a-z_]+)`", m.group(1))))
    return layers


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "equime"


def import_edges(root: Path) -> list[tuple[str, str, str]]:
    """(importing package, imported package, file) for every import between packages of equime."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        is_init = parts[-1] == "__init__"
        if is_init:
            parts = parts[:-1]
        module = ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts[: len(parts) - node.level + (1 if is_init else 0)]
                    targets = [".".join([*base, *([node.module] if node.module else [])])]
                else:
                    targets = [node.module or ""]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target == "equime" or target.startswith("equime."):
                    src, dst = package_of(module), package_of(target)
                    if src != dst:
                        edges.append((src, dst, str(path.relative_to(root))))
    return edges


def layer_index(layers: list[set[str]]) -> dict[str, int]:
    return {name: i for i, layer in enumerate(layers) for name in layer}


def test_every_package_is_in_the_documented_order():
    index = layer_index(documented_layers())
    packages = {p.stem if p.is_file() else p.name for p in SRC.iterdir()}
    packages = {p for p in packages if not p.startswith("_") and p != "data" and p != "py"}
    missing = sorted(p for p in packages if p not in index)
    assert not missing, f"not in docs/ARCHITECTURE.md's package order: {missing}"


def test_imports_only_go_down():
    index = layer_index(documented_layers())
    bad = [
        f"{file}: {src} (layer {index[src]}) imports {dst} (layer {index[dst]})"
        for src, dst, file in import_edges(SRC)
        if index[dst] >= index[src]
    ]
    assert not bad, "imports that break the documented order:\n" + "\n".join(sorted(set(bad)))


def test_no_cycles_between_packages():
    graph: dict[str, set[str]] = {}
    for src, dst, _ in import_edges(SRC):
        graph.setdefault(src, set()).add(dst)
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack, node, nxt]))
            if nxt not in seen:
                visit(nxt, [*stack, node])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node, [])


def test_the_checker_sees_a_back_door(tmp_path):
    """The walker itself reports an upward import (so a green test means something)."""
    pkg = tmp_path / "equime"
    (pkg / "files").mkdir(parents=True)
    (pkg / "files" / "__init__.py").write_text("from ..ui import page\n")
    (pkg / "ui").mkdir()
    (pkg / "ui" / "__init__.py").write_text("")
    assert ("files", "ui", "files/__init__.py") in import_edges(pkg)


def test_ui_modules_stay_small():
    """The page is a controller and one module per tab, none over 400 lines."""
    sizes = {
        p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (SRC / "ui").glob("*.py")
    }
    assert max(sizes.values()) <= 400, sizes
