"""Nothing in the code base evaluates, executes or unpickles user data."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRIBUTES = {("pickle", "load"), ("pickle", "loads"), ("marshal", "loads"), ("yaml", "load")}


def python_files():
    for package in ("app", "engine"):
        yield from (ROOT / package).rglob("*.py")


def test_no_eval_exec_or_plain_unpickling():
    offenders = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.id}()")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if (func.value.id, func.attr) in FORBIDDEN_ATTRIBUTES:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.value.id}.{func.attr}()")
    assert offenders == []


def test_numpy_loads_never_allow_pickles():
    for path in python_files():
        text = path.read_text()
        assert "allow_pickle=True" not in text, path
