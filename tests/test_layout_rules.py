"""The rooms stay honest (docs/architecture.md): which room may import which, SQL only in store/, no unused code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pyflakes.api import checkPath
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("worker", "portals", "flows", "store", "fake_portal", "web", "bench")
# room -> the project rooms it must never import (no room of the product imports the tests)
FORBIDDEN = {
    "portals": {"store", "flows", "worker", "fake_portal", "web", "tests"},
    "store": {"portals", "flows", "worker", "fake_portal", "web", "playwright", "tests"},
    "flows": {"worker", "fake_portal", "web", "tests"},
    "worker": {"fake_portal", "web", "tests"},
    "fake_portal": {"worker", "portals", "flows", "store", "web", "tests"},
    # the workspace never drives a browser: it asks the worker for work through the queue
    "web": {"portals", "fake_portal", "playwright", "tests"},
    "bench": {"tests"},
}
# Inside worker/: the command line reads the runtime, never the other way; security is below them all.
WORKER_FORBIDDEN = {
    "worker/runtime": {"worker.cli"},
    "worker/delivery": {"worker.cli"},
    "worker/security": {"worker.cli", "worker.runtime", "worker.delivery"},
    "worker/settings.py": {"worker.cli", "worker.runtime", "worker.delivery", "worker.security"},
}
# The worker may start the fake portal as a separate server for `demo` and `fake-portal serve` only.
ALLOWED = {("worker/cli/demo.py", "fake_portal"), ("worker/cli/setup.py", "fake_portal"), ("worker/cli/web.py", "web")}
# Of the worker, the workspace uses its settings, security (passwords, redaction) and clock, and four
# read-only parts of the runtime: the planner (a re-check is enqueued the way `check` enqueues, never
# run), the heartbeat's liveness, the jobs' specs and where evidence lives. None drives a browser; the
# packet printer starts a short-lived Chromium only to print the workspace's own HTML (offline, no script).
WEB_MAY_USE = (
    "worker.settings",
    "worker.security",
    "worker.clock",
    "worker.runtime.planning",
    "worker.runtime.heartbeat",
    "worker.runtime.jobs",
    "worker.runtime.evidence",
    "worker.runtime.packets",
)
SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}


def modules(room: str) -> list[Path]:
    return sorted((ROOT / room).rglob("*.py"))


def imported(path: Path) -> list[tuple[str, set[str]]]:
    """(top-level module, names imported from it) for every import in the file, nested ones included."""
    found: list[tuple[str, set[str]]] = []
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


def imported_modules(path: Path) -> list[str]:
    """Every project module or package the file imports, by dotted name (`from a.b import c` gives a.b and
    a.b.c), nested imports included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("part", sorted(WORKER_FORBIDDEN))
def test_inside_the_worker_arrows_point_down(part: str) -> None:
    paths = [ROOT / part] if part.endswith(".py") else modules(part)
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in imported_modules(path)
        if any(name == banned or name.startswith(banned + ".") for banned in WORKER_FORBIDDEN[part])
    ]
    assert not wrong


def test_the_workspace_uses_only_the_workers_settings_security_clock_and_planner() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules("web")
        for name in imported_modules(path)
        if (name == "worker" or name.startswith("worker."))
        and not any(name == allowed or name.startswith(allowed + ".") for allowed in WEB_MAY_USE)
    ]
    assert not wrong


def module_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (a package's own __init__ left out)."""
    names = {}
    for room in ROOMS:
        for path in modules(room):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            names[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        targets = set()
        for imported_name in imported_modules(path):
            while imported_name and imported_name not in names:
                imported_name = imported_name.rpartition(".")[0]
            if imported_name and imported_name != name and not name.startswith(imported_name + "."):
                targets.add(imported_name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_round_a_cycle() -> None:
    """Lazy imports inside functions count: a cycle hidden in a function is still two modules that need each
    other."""
    assert cycles(module_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("room", ["worker", "portals", "flows", "web"])
def test_sql_is_built_only_in_store(room: str) -> None:
    wrong = []
    for path in modules(room):
        for module, names in imported(path):
            if module in {"sqlalchemy", "sqlmodel"} and names & SQL_BUILDERS:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(names & SQL_BUILDERS)} from {module}")
    assert not wrong


PORTAL_TYPES = {
    "PortalAdapter",
    "PortalSession",
    "ClaimListPortal",
    "AuthorizationPortal",
    "EnrollmentPortal",
    "PayerEnrollmentsPortal",
    "RemittancePortal",
    "ClaimList",
    "AuthorizationLookup",
    "MemberAuthorizations",
    "EnrollmentLookup",
    "PayerEnrollments",
    "RemittanceFiles",
}


def test_no_flow_holds_a_transaction_across_a_portal_request() -> None:
    """flows/__init__.py: a flow given a portal takes an Engine and opens its own short transactions."""
    wrong = []
    for path in modules("flows"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef):
                continue
            annotations = {
                ast.unparse(a.annotation).strip("'\"")
                for a in node.args.args + node.args.kwonlyargs
                if a.annotation is not None
            }
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


OUTSIDE_DOCUMENTS = ("PITFALLS", "LESSONS", "ARCHITECTURE.md", "STYLE.md", "../shared")


def test_code_and_docs_cite_only_documents_in_the_repository() -> None:
    """The repository stands on its own: a reason is written here (docs/architecture.md), not pointed at."""
    texts = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml", *sorted((ROOT / "docs").rglob("*.md"))]
    texts += [p for room in (*ROOMS, "tests", "config") for p in sorted((ROOT / room).rglob("*")) if p.is_file()]
    texts = [
        p for p in texts if p.suffix in {".py", ".md", ".toml", ".cfg", ".html", ".txt", ""} and p != Path(__file__)
    ]
    citing = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in texts
        for name in OUTSIDE_DOCUMENTS
        if name in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert citing == []
