"""Rules of the layout that import-linter cannot see."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "loanfund"


def _calls(folder: str, name: str) -> list[str]:
    hits = []
    for path in (PACKAGE / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = getattr(func, "value", None)
                owner_name = getattr(owner, "attr", getattr(owner, "id", ""))
                if (called == name and owner_name == "session") or (
                    called == name and name == "float"
                ):
                    hits.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return hits


def test_views_never_commit():
    assert _calls("web", "commit") == []


def test_no_float_in_money_code():
    for layer in ("domain", "services", "models", "queries", "exports"):
        assert _calls(layer, "float") == [], layer
