"""The rooms stay honest (docs/architecture.md): which room may import which, SQL only in store/, no unused code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pyflakes.api import checkPath
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("worker", "portals", "flows", "store", "fake_portal")
# room -> the project rooms it must never import
FORBIDDEN = {
    "portals": {"store", "flows", "worker", "fake_portal"},
    "store": {"portals", "flows", "worker", "fake_portal", "playwright"},
    "flows": {"worker", "fake_portal"},
    "worker": {"fake_portal"},
    "fake_portal": {"worker", "portals", "flows", "store"},
}
# The worker may start the fake portal as a separate server for `demo` and `fake-portal serve` only.
ALLOWED = {("worker/cli/demo.py", "fake_portal"), ("worker/cli/setup.py", "fake_portal")}
SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}


def modules(room: str) -> list[Path]:
    return sorted((ROOT / room).rglob("*.py"))


def imported(path: Path) -> list[tuple[str, set[str]]]:
    """(top-level module, names imported from it) for every import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module.split(".")[0], {alias.name for alias in node.names}))
    return found


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_imports_only_what_is_below_it(room: str) -> None:
    wrong = []
    for path in modules(room):
        relative = path.relative_to(ROOT).as_posix()
        for module, _ in imported(path):
            if module in FORBIDDEN[room] and (relative, module) not in ALLOWED:
                wrong.append(f"{relative} imports {module}")
    assert not wrong


@pytest.mark.parametrize("room", ["worker", "portals", "flows"])
def test_sql_is_built_only_in_store(room: str) -> None:
    wrong = []
    for path in modules(room):
        for module, names in imported(path):
            if module in {"sqlalchemy", "sqlmodel"} and names & SQL_BUILDERS:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(names & SQL_BUILDERS)} from {module}")
    assert not wrong


PORTAL_TYPES = {"PortalAdapter", "PortalSession", "ClaimExportPortal", "AuthorizationPortal", "EnrollmentPortal",
                "PayerEnrollmentsPortal", "RemittancePortal", "ClaimExport", "ClaimList", "AuthorizationLookup",
                "MemberAuthorizations", "EnrollmentLookup", "PayerEnrollments", "RemittanceFiles"}


def test_no_flow_holds_a_transaction_across_a_portal_request() -> None:
    """flows/__init__.py: a flow given a portal takes an Engine and opens its own short transactions."""
    wrong = []
    for path in modules("flows"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef):
                continue
            annotations = {ast.unparse(a.annotation).strip("'\"") for a in node.args.args + node.args.kwonlyargs
                           if a.annotation is not None}
            if annotations & PORTAL_TYPES and "Session" in annotations:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not wrong


class _Collect:
    """pyflakes' output, less the lines the code marks `# noqa` on purpose."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        file, line, *_ = text.split(":")
        source = Path(file).read_text().splitlines()[int(line) - 1] if line.isdigit() else ""
        if "# noqa" not in source:
            self.lines.append(text)


def test_pyflakes_finds_nothing() -> None:
    out = _Collect()
    reporter = Reporter(out, out)
    for room in (*ROOMS, "tests", "bench"):
        for path in modules(room):
            checkPath(str(path), reporter)
    assert not out.lines, "\n".join(out.lines)
