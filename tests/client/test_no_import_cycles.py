"""The client's modules import one way (issue 26): no module of ``falstudio.client`` reaches, through others,
back to itself, counting imports made for typing and inside functions. pyproject's import-linter contracts name
the order of the request modules; this catches a cycle among any of them."""

from __future__ import annotations

import grimp
import pytest

pytestmark = pytest.mark.unit  # no server: the import graph alone
PACKAGE = "falstudio.client"


def _cycle(graph: grimp.ImportGraph, modules: list[str]) -> list[str] | None:
    inside = {m: sorted(x for x in graph.find_modules_directly_imported_by(m) if x in modules) for m in modules}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        for imported in inside[module]:
            if imported in path:
                return [*path[path.index(imported) :], imported]
            if imported not in done:
                found = visit(imported, [*path, imported])
                if found:
                    return found
        done.add(module)
        return None

    for module in modules:
        if module not in done and (found := visit(module, [module])):
            return found
    return None


def test_the_client_has_no_import_cycle() -> None:
    graph = grimp.build_graph("falstudio")
    modules = sorted(m for m in graph.modules if m.startswith(f"{PACKAGE}."))
    assert len(modules) > 20
    cycle = _cycle(graph, modules)
    assert cycle is None, "import cycle in the client: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycle(graph, ["p.a", "p.b", "p.c"]) is None
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycle(graph, ["p.a", "p.b", "p.c"]) == ["p.a", "p.b", "p.c", "p.a"]
