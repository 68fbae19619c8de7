"""The style gate of `make test`: ruff (ruff.toml: line length 110, pycodestyle, pyflakes, import
order) passes on the whole tree, and the shell's functions stay short enough to read."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGE = REPOSITORY / "eq_negotiator_ros" / "eq_negotiator_ros"
MAX_FUNCTION_LINES = 60
# Where functions are wiring a newcomer reads first: kept at MAX_FUNCTION_LINES at most.
SHORT_FUNCTION_PATHS = ("nodes", "cli", "demo", "graph", "eq/session.py")


def test_the_tree_passes_ruff():
    ruff = Path(sys.prefix) / "bin" / "ruff"
    if not ruff.is_file():
        pytest.fail(f"ruff is not installed at {ruff}: run `make setup` (requirements/python.txt pins it)")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", str(REPOSITORY)], capture_output=True, text=True
    )
    assert result.returncode == 0, (
        f"ruff found style problems (fix most with `.venv/bin/ruff check --fix`):\n{result.stdout[-6000:]}"
    )


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_function_of_the_shell_is_longer_than_sixty_lines():
    files = []
    for name in SHORT_FUNCTION_PATHS:
        path = PACKAGE / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    found = [entry for path in files for entry in long_functions(path)]
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines: {found}"
