"""Which test cells a change to a notebook cell can reach, through the names the cells bind and read.

Two edits can be graded in one submission when no test cell reaches both (grader.catalogue.mistakes.bundles). The analysis
is static and leans towards finding a path: a cell reads a name it uses before binding it, in its statements or
in the functions and classes it defines; it binds a name it assigns, defines, imports, or whose items or
attributes it sets. A test cell also reads the names its hidden check takes from the kernel.
"""
from __future__ import annotations

import ast
import symtable
from functools import cache

import nbformat

from grader import hidden
from grader.course import SOLUTIONS, notebook_of
from grader.catalogue.submissions import strip_markers

BINDS_FIRST = (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Import, ast.ImportFrom, ast.FunctionDef,
               ast.AsyncFunctionDef, ast.ClassDef)  # statements that bind their names before using them


def _table(source: str) -> symtable.SymbolTable:
    return symtable.symtable(source, "cell", "exec")


def _called_globals(table: symtable.SymbolTable) -> set[str]:
    """Module-level names that the functions and classes of ``table`` use when they run."""
    names = set()
    for child in table.get_children():
        names |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        names |= _called_globals(child)
    return names


def _bound_here(table: symtable.SymbolTable) -> set[str]:
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


def _items(statement: ast.stmt) -> set[str]:
    """Names whose items or attributes a statement sets (``runs[name] = ...``)."""
    return {node.value.id for node in ast.walk(statement) if isinstance(node, (ast.Subscript, ast.Attribute))
            and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name)}


@cache
def steps(source: str) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(names used before being bound, names bound) of each top-level statement of a cell; a function or class
    uses the module-level names its body reads. Cached: bundling reads every cell again for each group it tries."""
    found, before = [], set()
    for statement in ast.parse(source).body:
        table = _table(ast.unparse(statement))
        used = {s.get_name() for s in table.get_symbols() if s.is_referenced()} | _called_globals(table)
        binds = _bound_here(table) | _items(statement)
        found.append((frozenset(used - before - (binds if isinstance(statement, BINDS_FIRST) else set())),
                      frozenset(binds)))
        before |= binds
    return found


def code_cells(assignment: str, edited: dict[str, str] | None = None) -> dict[str, str]:
    """{grade id, or cell-N for an ungraded cell: source} of the instructor's notebook, markers stripped, with
    ``edited`` sources in place of their cells."""
    cells = _reference_cells(assignment)
    return {**cells, **(edited or {})}


@cache
def _reference_cells(assignment: str) -> dict[str, str]:
    nb = nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id", f"cell-{i}"): strip_markers(c.source)
            for i, c in enumerate(nb.cells) if c.cell_type == "code"}


def reach(assignment: str, edited: dict[str, str] | None = None) -> dict[str, set[str]]:
    """{cell: the test cells whose verdict a change to it can alter}, for the ``edited`` cells of ``assignment``
    (every code cell when none is).

    A name a cell binds depends on what the cell's statements read up to that binding (an error earlier leaves
    it unbound); a test cell depends on everything it and its hidden check read.
    """
    cells, checks = code_cells(assignment, edited), hidden.checks_for(assignment)
    needs, reads = {}, {}
    for cell, source in cells.items():
        used = set(getattr(checks.get(cell), "names", ()))
        needs[cell] = {}
        for uses, binds in steps(source):
            used |= uses
            needs[cell].update(dict.fromkeys(binds, frozenset(used)))
        reads[cell] = used
    return {start: _tests_reached(start, needs, reads, set(checks)) for start in edited or cells}


def _tests_reached(start: str, needs: dict, reads: dict, tests: set[str]) -> set[str]:
    """The test cells reading, directly or through other cells' names, a name that ``start`` binds."""
    tainted, grown = set(needs[start]), True
    while grown:
        new = {name for cell, names in needs.items() if cell != start for name, need in names.items()
               if need & tainted} - tainted
        tainted, grown = tainted | new, bool(new)
    return {cell for cell in tests if cell != start and reads[cell] & tainted}
