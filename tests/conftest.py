"""Shared fixtures: a small report written inline, and the location of ../shared when it exists."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from pipeline.knowledge import domain
from pipeline.tools.synth import T3_GROUPS, T3_LABELS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def same_pdf_value(a, b) -> bool:
    """Do two of pdfminer's parsed values hold the same thing: equal numbers and strings, the same
    interned names and keywords, references to the same object, streams with the same data?"""
    from pdfminer.pdftypes import PDFObjRef, PDFStream
    from pdfminer.psparser import PSKeyword, PSLiteral

    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_pdf_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_pdf_value(a[k], b[k]) for k in a)
    if isinstance(a, PDFObjRef):
        return a.objid == b.objid
    if isinstance(a, PDFStream):
        return (same_pdf_value(a.attrs, b.attrs) and a.rawdata == b.rawdata
                and (a.objid, a.genno) == (b.objid, b.genno))
    if isinstance(a, (PSLiteral, PSKeyword)):
        return a is b
    return a == b


def read_pdf_pages(document, interpreter_class, device_class, per_page, fonts=contextlib.nullcontext) -> list:
    """``per_page`` of what ``device_class`` gathered on each page of a pdfminer document, read by
    ``interpreter_class`` inside ``fonts()``."""
    from pdfminer.pdfinterp import PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    resources = PDFResourceManager(caching=True)
    device = device_class(resources, laparams=None)
    interpreter = interpreter_class(resources, device)
    pages = []
    with fonts():
        for page in PDFPage.create_pages(document):
            interpreter.process_page(page)
            pages.append(per_page(device.get_result()))
    return pages


def shared_pdfs() -> list[Path]:
    """The corpus's published PDFs and its web pages re-published as PDF, when ../shared is present."""
    corpus = SHARED / "corpus"
    return sorted((corpus / "pdf").glob("*.pdf")) + sorted((corpus / "formats" / "raw").glob("*.pdf"))

# the labels as the official template prints them, and the group label printed before a row
GROUPS_BEFORE = {code: label for code, (label, _) in T3_GROUPS.items()}


def requests_values(seed: int = 1) -> dict[str, list[int]]:
    """Table 3 numbers of a 2021 report that satisfy R1, R2 and R3."""
    rows = {code: [0] * 7 for code in T3_LABELS if code != "other_processing"}
    rows["granted"] = [5 + seed, 1, 0, 0, 0, 0, 0]
    rows["partially_granted"] = [2, 0, 0, 0, 0, 1, 0]
    rows["denied_process_info"] = [1, 0, 0, 0, 0, 0, 0]
    rows["unable_not_held"] = [3, 0, 0, 0, 2, 0, 0]
    for code, row in rows.items():
        row[6] = sum(row[:6])
    leaves = [c for c in rows if c not in ("new_received", "carried_over", "total", "carried_forward")]
    rows["total"] = [sum(rows[c][i] for c in leaves) for i in range(7)]
    rows["carried_forward"] = [1, 0, 0, 0, 0, 0, 1]
    rows["carried_over"] = [0, 0, 0, 0, 0, 0, 0]
    rows["new_received"] = [rows["total"][i] + rows["carried_forward"][i] - rows["carried_over"][i] for i in range(7)]
    return rows


def pipe_report_2021(values: dict[str, list[int]] | None = None, agency: str = "测试县某某局", year: int = 2022) -> str:
    """A 2021-template report, one table row per line with ' | ' separators (like seed 001)."""
    values = values or requests_values()
    lines = [
        f"{agency}{year}年政府信息公开工作年度报告",
        "一、总体情况",
        f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》。",
        "二、主动公开政府信息情况",
        "第二十条第（一）项 | | |",
        "信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数",
        "规章 | 0 | 0 | 0",
        "行政规范性文件 | 3 | 1 | 12",
        "第二十条第（五）项 | | |",
        "信息内容 | 本年处理决定数量 | |",
        "行政许可 | 120 | |",
        "第二十条第（六）项 | | |",
        "信息内容 | 本年处理决定数量 | |",
        "行政处罚 | 7 | |",
        "行政强制 | 0 | |",
        "第二十条第（八）项 | | |",
        "信息内容 | 本年收费金额（单位：万元） | |",
        "行政事业性收费 | 12.5 | |",
        "三、收到和处理政府信息公开申请情况",
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） | 申请人情况",
        "自然人 | 法人或其他组织 | 总计",
        "商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他",
    ]
    for code, label in T3_LABELS.items():
        if code == "other_processing":
            continue
        prefix = "三、本年度办理结果 | " if code == "granted" else ""
        if code in GROUPS_BEFORE:
            prefix += GROUPS_BEFORE[code] + " | "
        lines.append(prefix + label + " | " + " | ".join(str(v) for v in values[code]))
    lines += [
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议 | 行政诉讼",
        "结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉 | 复议后起诉",
        "结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计",
        "1 | 0 | 1 | 0 | 2 | 0 | 0 | 0 | 1 | 1 | 0 | 0 | 0 | 0 | 0",
        "五、存在的主要问题及改进情况",
        "一是公开内容还需丰富。",
        "六、其他需要报告的事项",
        "无。",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "truth").is_dir():
        pytest.skip("../shared is not present")
    return SHARED


def layout_cells(template: str) -> int:
    return sum(len(r.columns) for s in domain.SECTIONS for r in domain.layout(template, s))


# --- analysis layer ------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def build_dataset(inputs: Path, out: Path) -> Path:
    """Build a dataset with the CLI (as `make dataset` does) and return its folder."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["build", str(inputs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory) -> Path:
    """The five seed reports of data/raw/seeds, built into a temporary folder."""
    return build_dataset(REPO / "data" / "raw" / "seeds", tmp_path_factory.mktemp("sample") / "dataset")


@pytest.fixture(scope="session")
def full_sample_dataset(tmp_path_factory) -> Path:
    """Every sample report of data/raw (seeds, the 平潭 and 洪泽 series): what `make dataset` builds."""
    return build_dataset(REPO / "data" / "raw", tmp_path_factory.mktemp("full_sample") / "dataset")


def scorer(shared: Path):
    """The shared tools/score.py, imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("score", shared / "tools" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cell_verdicts(shared: Path, dataset: Path, truth: Path) -> dict[str, list]:
    """score.py's verdict for every truth cell of a built dataset: verdict -> [(key, truth, detail)]."""
    score = scorer(shared)
    facts = score.load_facts(dataset)
    verdicts: dict[str, list] = {}
    for t in score.load_truth(truth):
        key = (t["file"], t["section"], t["row"], t["column"])
        verdict, detail = score.judge(t["value"], facts.get(key, []))
        verdicts.setdefault(verdict, []).append((key, t["value"], detail))
    return verdicts
