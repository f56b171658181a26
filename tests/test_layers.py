"""The import graph keeps the house's shape: corpus -> index -> service, and inside ``index``
the model and the stores below search and categorisation; no cycle anywhere.

Read from the source with ``ast`` (every import counts: at the top, inside functions and under
``TYPE_CHECKING``), so a new upward import fails here before anyone has to untangle it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("corpus", "index", "service")

# Inside ``index``: a group may import its own modules and groups of a lower rank only.
INDEX_RANK = {
    "embedding": 0,
    "stores": 0,
    "": 1,  # modules at the top of index/: build (list -> vectors -> store), lexical (BM25)
    "search": 2,
    "categorize": 2,
    "evaluation": 3,
}
PACKAGE_RANK = {"corpus": 0, "index": 1, "service": 2}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["secml_papers", *parts])


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules that ``path`` imports (a package's ``__init__`` counts for it)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name.startswith("secml_papers."):
                while name not in known and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name in known:
                    out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def index_group(module: str) -> str:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 else ""


def upward(source: str, target: str) -> str | None:
    """Why ``source`` may not import ``target``, or None when it may."""
    top_s, top_t = source.split(".")[1], target.split(".")[1]
    if PACKAGE_RANK[top_t] > PACKAGE_RANK[top_s]:
        return f"{top_s} may not import {top_t}"
    if top_s == top_t == "index" and target != "secml_papers.index":
        group_s, group_t = index_group(source), index_group(target)
        if group_s != group_t and INDEX_RANK[group_t] >= INDEX_RANK[group_s]:
            return f"index/{group_s or '.'} may not import index/{group_t or '.'}"
    return None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        order[v] = low[v] = len(order)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in order:
            visit(v)
    return found


def test_every_index_module_sits_in_a_known_group():
    groups = {index_group(m) for m in modules() if m.startswith("secml_papers.index.")}
    assert groups <= set(INDEX_RANK), groups - set(INDEX_RANK)


def test_no_upward_import():
    wrong = [
        f"{source} imports {target}: {why}"
        for source, targets in graph().items()
        for target in sorted(targets)
        if (why := upward(source, target))
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    assert cycles(graph()) == []


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("secml_papers.corpus.parse", "secml_papers.index.build", False),
        ("secml_papers.index.build", "secml_papers.service.cli", False),
        ("secml_papers.index.embedding.embedder", "secml_papers.index.search.ranking", False),
        ("secml_papers.index.stores.store", "secml_papers.index.embedding.embedder", False),
        ("secml_papers.index.search.paper_index", "secml_papers.index.categorize.reuse", False),
        (
            "secml_papers.index.categorize.placement",
            "secml_papers.index.evaluation.evaluate",
            False,
        ),
        ("secml_papers.index.evaluation.evaluate", "secml_papers.index.categorize.placement", True),
        ("secml_papers.index.search.paper_index", "secml_papers.index.build", True),
        ("secml_papers.service.cli", "secml_papers.corpus.parse", True),
    ],
)
def test_the_rule_itself(source, target, allowed):
    """The checks above would pass on any graph if the rule let everything through."""
    assert (upward(source, target) is None) is allowed


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
