"""Domain knowledge lives in knowledge/data, read by generic code: no row or column code, label word,
unit or agency suffix is written into the pipeline's Python outside ``pipeline/knowledge``.

The check reads every string constant of the code (docstrings aside, which may quote examples): none
may hold a Chinese character (labels, units, suffixes and messages in Chinese are data), and none may
equal a code of codes.csv. ``pipeline/tools`` (the synthetic-report generator and the benchmark) is
outside the parse path and writes report prose of its own; its labels also come from the data.
"""

import ast
import re
from pathlib import Path

from pipeline.knowledge import domain

ROOT = Path(__file__).resolve().parents[1] / "pipeline"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
EXEMPT = ("knowledge", "tools")


def string_constants(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def code_files():
    return [p for p in sorted(ROOT.rglob("*.py")) if not set(p.relative_to(ROOT).parts[:1]) & set(EXEMPT)]


def test_no_chinese_text_in_the_pipeline_code():
    found = [f"{p.relative_to(ROOT)}:{line}: {text[:40]!r}" for p in code_files()
             for line, text in string_constants(p) if CJK.search(text)]
    assert not found, "Chinese text belongs in pipeline/knowledge/data:\n" + "\n".join(found)


def test_no_row_or_column_code_in_the_pipeline_code():
    codes = set()
    for section in domain.SECTIONS:
        rows, cols = domain.valid_codes()[section]
        codes |= rows | cols
    found = [f"{p.relative_to(ROOT)}:{line}: {text!r}" for p in code_files()
             for line, text in string_constants(p) if text in codes]
    assert not found, "codes belong in pipeline/knowledge/data:\n" + "\n".join(found)


def test_the_scan_sees_the_pipeline():
    names = {p.relative_to(ROOT).as_posix() for p in code_files()}
    assert {"extract/tables.py", "extract/metadata.py", "ingest/readers/pdf.py", "process.py"} <= names
    assert any(CJK.search(text) for _, text in string_constants(ROOT / "knowledge" / "view_schemas.py"))
