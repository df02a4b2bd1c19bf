"""Bad input never crashes, hangs or is lost: every file ends up in reports.parquet with a reason."""

import random

import polars as pl
from conftest import pipe_report_2021
from typer.testing import CliRunner

from pipeline.process import Limits, process_file
from pipeline.cli import app
from pipeline.ingest.discover import SourceFile

LABEL_1 = "一、本年新收政府信息公开申请数量"
LABEL_2 = "二、上年结转政府信息公开申请数量"


def bad_inputs(folder):
    """name -> (bytes or a callable writing the file, words expected in the reason or None for any)."""
    rng = random.Random(5)
    report = pipe_report_2021()
    return {
        "empty.txt": (b"", "empty file"),
        "whitespace.txt": (b"  \n\t\n", "empty file"),
        "random.bin": (bytes(rng.getrandbits(8) for _ in range(20000)), "binary"),
        "nul_bytes.bin": (b"\x00" * 4000, "binary"),
        "latin1.txt": ("Café résumé ".encode("latin-1") * 300, "not a report"),
        "gbk_report.txt": (report.encode("gb18030"), None),
        "utf16_report.txt": (report.encode("utf-16"), None),
        "utf16le_no_bom.txt": (report.encode("utf-16-le"), None),
        "truncated.txt": (report[: report.index("三、收到和处理")].encode(), "truncated after Table 2"),
        "cut_mid_table.txt": (report[: report.index("（四）无法提供")].encode(), "rows not found"),
        "long_line.txt": (("规章" + "0" * 400_000 + LABEL_1 + "1" * 300_000 + LABEL_2).encode(), None),
        "many_labels.txt": (((LABEL_1 + LABEL_2 + "0000000") * 5000).encode(), None),
        "regex_bomb.txt": ((("(" * 20000) + "第二十条第(一)项" * 2000 + "务(" * 10000 + "县|" * 10000
                            + "一、本年新收" * 3000).encode(), None),
        "deep.html": (("<html><body>" + "<div>" * 20000 + LABEL_1 + "</div>" * 20000 + "</body></html>").encode(), None),
        "nested_tables.html": (("<table><tr><td>" * 500 + LABEL_1 + "</td></tr></table>" * 500).encode(), None),
        "broken.html": (b"<html><body><table><tr><td>\xe4\xb8\x80<td rowspan=abc colspan=-5>1</table></p></div>", None),
        "notice.txt": ("关于做好政务公开工作的通知\n各单位：请认真落实。\n".encode(), "not a report"),
        "pre2019.txt": ("某县2017年政府信息公开工作年度报告\n一、概述\n".encode(), "pre-2019 format"),
        "tables_as_images.txt": ("某县财政局2022年政府信息公开工作年度报告\n（表格见图片）\n".encode(), "images"),
        "scan.pdf": (b"%PDF-1.4\n" + bytes(rng.getrandbits(8) for _ in range(2000)), None),
        "broken.docx": (b"PK\x03\x04word/" + bytes(rng.getrandbits(8) for _ in range(2000)), None),
        "legacy.doc": (b"\xd0\xcf\x11\xe0" + bytes(rng.getrandbits(8) for _ in range(2000)), None),
        "page_files/t1.png": (b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(2000)),
                              "a picture, not a report by itself"),
        "photo.jpg": (b"\xff\xd8\xff\xe0" + bytes(rng.getrandbits(8) for _ in range(2000)), "a picture"),
        "copy_a.txt": (report.encode(), None),
        "copy_b.txt": (report.encode(), "duplicate of copy_a.txt"),
        "huge.txt": (lambda path: path.open("wb").truncate(120 * 2**20), "above the 50 MB limit"),
    }


def test_every_bad_input_is_listed_once_with_an_actionable_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    cases = bad_inputs(folder)
    for name, (content, _) in cases.items():
        if callable(content):
            content(folder / name)
        else:
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_bytes(content)
    result = CliRunner().invoke(app, ["build", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    reports = pl.read_parquet(tmp_path / "out" / "reports.parquet")
    assert sorted(reports["source_file"]) == sorted(cases)  # nothing lost, nothing twice
    by_name = {r["source_file"]: r for r in reports.iter_rows(named=True)}
    for name, (_, words) in cases.items():
        row = by_name[name]
        assert row["status"] == "parsed" or row["reason"], name
        if words:
            assert words in row["reason"], (name, row["reason"])
    for name in ("gbk_report.txt", "utf16_report.txt", "utf16le_no_bom.txt", "copy_a.txt"):
        assert by_name[name]["status"] == "parsed", (name, by_name[name]["reason"])
        assert by_name[name]["agency"] == "测试县某某局"
    facts = pl.read_parquet(tmp_path / "out" / "facts.parquet")
    assert facts.filter(pl.col("source_file") == "copy_b.txt").is_empty()
    assert len(cases) == 27


def test_a_file_that_vanishes_or_is_not_readable_is_rejected_not_fatal(tmp_path):
    gone = process_file(SourceFile(tmp_path / "gone.txt", "gone.txt"))
    assert gone.report["status"] == "rejected" and "cannot read" in gone.report["reason"]
    folder = process_file(SourceFile(tmp_path, "a_folder"))
    assert folder.report["status"] == "rejected" and "cannot read" in folder.report["reason"]


def test_the_time_limit_per_file_stops_long_work_with_a_reason(tmp_path):
    path = tmp_path / "slow.txt"
    path.write_text(pipe_report_2021() * 400, encoding="utf-8")
    result = process_file(SourceFile(path, "slow.txt"), Limits(seconds=0.01))
    assert result.report["status"] == "rejected"
    assert "time limit" in result.report["reason"] and result.facts == []


def test_a_reader_bug_becomes_a_rejected_report_that_says_so(tmp_path, monkeypatch):
    import pipeline.process as build

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(build, "read_tables", broken)
    path = tmp_path / "r.txt"
    path.write_text(pipe_report_2021(), encoding="utf-8")
    result = process_file(SourceFile(path, "r.txt"))
    assert result.report["status"] == "rejected" and "reader error" in result.report["reason"]
