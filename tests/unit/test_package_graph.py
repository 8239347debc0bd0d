"""The package graph, read from the source: one dependency direction, no cycles,
and no import of our own code placed inside a function to dodge one."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "techapi"

# Bottom to top: a unit may import only units on its own layer or below.
LAYERS: list[set[str]] = [
    {"clock", "config", "settings_declaration", "settings_parsers", "errors", "retry", "states"},
    {"db", "compression", "edge", "logs", "observability", "passwords", "storage", "spapi"},
    {"audit", "context"},
    {"queue"},
    {"idempotency"},
    {"apidoc"},
    {"conditional"},
    {"auth"},
    {"jobs"},
    {"capacity"},
    {"evidence"},
    {"closures"},
    {"appointments", "assignment"},
    {"reads", "reports"},
    {"offline", "webhooks"},
    {"console"},
    {"worker", "health", "checks", "openapi", "models", "migrations"},
    {"__init__"},
    {"cli", "__main__"},
]
LAYER_OF = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str | None:
    """`techapi.evidence.times` -> `evidence`; `techapi` -> `__init__`."""
    parts = module.split(".")
    if parts[0] != "techapi":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function?) for every import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] + [base]).strip(".")
                for alias in child.names:  # `from techapi import jobs` imports the package jobs
                    name = f"{base}.{alias.name}"
                    yield (name if is_module(name) else base), child.lineno, in_function
            yield from visit(child, nested)

    yield from visit(tree, False)


def edges() -> Iterator[tuple[str, str, str]]:
    """(importing unit, imported unit, where) for imports between our own units."""
    for path in sorted(PACKAGE.rglob("*.py")):
        src = unit_of(module_name(path))
        for target, line, _ in imports(path):
            dst = unit_of(target)
            if dst is not None and dst != src:
                yield src, dst, f"{path.relative_to(PACKAGE.parent)}:{line}"


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_two_packages_import_each_other_even_through_others():
    graph: dict[str, set[str]] = {}
    for src, dst, _ in edges():
        graph.setdefault(src, set()).add(dst)
    assert cycle(graph) is None, f"package cycle: {' -> '.join(cycle(graph) or [])}"


def test_every_package_imports_only_its_own_layer_or_below():
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert units <= set(LAYER_OF), f"place these in LAYERS: {sorted(units - set(LAYER_OF))}"
    upward = [f"{where}: {src} imports {dst}" for src, dst, where in edges() if LAYER_OF[dst] > LAYER_OF[src]]
    assert not upward, "\n".join(upward)


def test_our_own_code_is_never_imported_inside_a_function():
    inside = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
              for path in sorted(PACKAGE.rglob("*.py"))
              for target, line, in_function in imports(path)
              if in_function and target.startswith("techapi")]
    assert not inside, "\n".join(inside)
