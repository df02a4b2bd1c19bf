"""The reviewer's checks, family by family, on small inline reports: completeness (C), prose against the
tables (T), the publication deadline (D), prose reused from last year (S) and year-on-year jumps (Y)."""

import polars as pl
from conftest import pipe_report_2021, requests_values
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest.discover import SourceFile
from pipeline.process import process_bytes
from pipeline.warehouse import query

PROSE_AT = "认真贯彻落实《中华人民共和国政府信息公开条例》。"


def findings(text: str, name: str = "r.txt") -> list[dict]:
    return process_bytes(SourceFile(None, name), text.encode()).findings


def of(found: list[dict], family: str) -> list[dict]:
    return [f for f in found if f["rule"].startswith(family)]


def with_prose(sentences: str, **kwargs) -> str:
    return pipe_report_2021(**kwargs).replace(PROSE_AT, PROSE_AT + sentences)


def received_total() -> int:
    return requests_values()["new_received"][6]


# --- C -----------------------------------------------------------------------------------------------


def test_a_complete_report_has_no_completeness_finding():
    assert of(findings(pipe_report_2021()), "C") == []


def test_a_removed_part_is_named_even_when_the_preface_lists_it():
    text = pipe_report_2021().replace("五、存在的主要问题及改进情况\n一是公开内容还需丰富。\n", "")
    text = text.replace("一、总体情况", "本报告由总体情况、主动公开政府信息情况、存在的主要问题及改进情况等部分组成。\n一、总体情况")
    found = of(findings(text), "C")
    assert [(f["rule"], f["outcome"], f["row"]) for f in found] == [("C1_parts", "failed", "5")]
    assert "存在的主要问题及改进情况" in found[0]["message"]


def test_a_missing_table_is_a_completeness_finding():
    text = pipe_report_2021()
    text = text[:text.index("四、政府信息公开行政复议")] + text[text.index("五、存在的主要问题"):]
    found = of(findings(text), "C")
    assert {(f["rule"], f["section"]) for f in found} == {("C1_parts", None), ("C2_tables", "appeals")}


# --- T -----------------------------------------------------------------------------------------------


def test_a_prose_number_that_contradicts_its_cell_is_a_finding_quoting_the_sentence():
    n = received_total()
    agree = findings(with_prose(f"全年共收到政府信息公开申请{n}件，均按时答复。"))
    assert of(agree, "T") == []
    found = of(findings(with_prose(f"全年共收到政府信息公开申请{n + 3}件，均按时答复。")), "T")
    assert [(f["rule"], f["section"], f["row"], f["col"], f["expected"], f["actual"]) for f in found] == [
        ("T1_received_claim", "requests", "new_received", "total", float(n), float(n + 3))]
    assert f"全年共收到政府信息公开申请{n + 3}件" in found[0]["message"]


def test_no_prose_claim_pattern_can_start_inside_a_run_of_digits():
    # a pattern that starts at a digit is tried at every digit of a run and reads the run again each
    # time: a line of 400,000 digits took 60 s (the time limit per file) before its look-behind
    from pipeline.knowledge import domain

    starting_with_a_number = [c.regex.pattern for c in domain.prose_claims()
                              if c.regex.pattern.startswith(("(\\d", "(?:(\\d", "\\d"))]
    assert starting_with_a_number == []
    carried = next(c for c in domain.prose_claims() if "(\\d+)件结转" in c.regex.pattern)
    # the look-behind keeps the matches: each number whole, from the first digit of its run
    text = "共12件结转至下年度，" + "7" * 50 + "件结转下年度"
    assert [m.group(1) for m in carried.regex.finditer(text)] == ["12", "7" * 50]


def test_numbers_that_are_no_claim_about_a_cell_are_never_compared():
    prose = ("2023年，全区收到群众诉求348件，办结率100%。联系电话：0591-23456789，邮编350400。"
             "全年主动公开政府信息102条，发布政策解读9篇。全年收取政府信息公开信息处理费300元。"
             "依据国办公开办函〔2021〕30号编制。较上年增加5件。行政复议工作总体平稳，共办理行政复议案件30件。")
    assert of(findings(with_prose(prose)), "T") == []


def test_results_reviews_and_lawsuits_in_the_prose_are_compared():
    values = requests_values()
    granted, partial = values["granted"][6], values["partially_granted"][6]
    prose = (f"其中予以公开{granted}件，部分公开{partial + 1}件。"
             "因政府信息公开引起的行政复议案件2件、行政诉讼案件5件。")
    found = {(f["rule"], f["row"], f["actual"]) for f in of(findings(with_prose(prose)), "T")}
    # Table 4 of the sample: reviews 2 in total, lawsuits 1 (direct) + 0 (after review)
    assert found == {("T4_results_claim", "partially_granted", float(partial + 1)),
                     ("T5_appeals_claim", "litigation_direct", 5.0)}


# --- D -----------------------------------------------------------------------------------------------


def deadline(text: str) -> list[tuple]:
    return [(f["outcome"], f["actual"]) for f in of(findings(text), "D")]


def test_a_department_publishing_after_31_january_is_late_and_a_government_is_not():
    department = pipe_report_2021(agency="测试县财政局", year=2022)
    assert deadline("发布时间：2023-01-20 10:00\n" + department) == []
    assert deadline("发布时间：2023-02-10 10:00\n" + department) == [("failed", 10.0)]
    government = pipe_report_2021(agency="测试县人民政府", year=2022)
    assert deadline("发布时间：2023-03-30\n" + government) == []
    assert deadline("发布时间：2023-04-02\n" + government) == [("failed", 2.0)]


def test_a_web_page_gives_its_date_in_its_meta_tag_and_a_report_without_a_date_is_not_assessable():
    page = ("<html><head><meta name=\"PubDate\" content=\"2023-02-15 09:00\"></head><body>"
            + "".join(f"<p>{line}</p>" for line in pipe_report_2021(agency="测试县财政局", year=2022).splitlines())
            + "</body></html>")
    assert deadline(page) == [("failed", 15.0)]
    assert deadline(pipe_report_2021()) == [("not_assessable", None)]


def test_the_date_under_the_signature_is_read_in_chinese_numerals():
    text = pipe_report_2021(agency="测试县人民政府", year=2022) + "测试县人民政府\n二〇二三年四月五日\n"
    assert deadline(text) == [("failed", 5.0)]


# --- S and Y (across years) ----------------------------------------------------------------------------


def build(tmp_path, texts: dict[str, str]):
    (tmp_path / "in").mkdir()
    for name, text in texts.items():
        (tmp_path / "in" / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["build", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-cache"])
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


PROSE_2021 = ("一是完善公开制度，修订了本机关政府信息公开指南和公开目录。二是加强解读回应，围绕重点工作发布图文解读材料。"
              "三是规范依申请公开办理流程，建立登记、审核、答复全流程台账。四是加强培训，组织业务培训提升工作人员能力。")
PROSE_2022 = ("一是推进基层政务公开标准化建设，梳理各领域公开事项清单。二是优化政府网站栏目设置，整合专题专栏资源。"
              "三是做好重大决策预公开，广泛征求社会公众意见建议。四是强化监督考核，把政务公开纳入年度绩效考核体系。")


def test_last_years_prose_reused_is_a_finding_and_new_prose_is_not(tmp_path):
    out = build(tmp_path, {
        "a2021.txt": with_prose(PROSE_2021, year=2021),
        "a2022.txt": with_prose(PROSE_2021.replace("2021", "2022"), year=2022),
        "b2021.txt": with_prose(PROSE_2021, agency="另一县某某局", year=2021),
        "b2022.txt": with_prose(PROSE_2022, agency="另一县某某局", year=2022),
    })
    reused = pl.read_parquet(out / "violations.parquet").filter(pl.col("rule") == "S1_reuse")
    files = dict(pl.read_parquet(out / "reports.parquet").select("report_id", "source_file").rows())
    assert [files[r] for r in reused["report_id"]] == ["a2022.txt"] and reused["actual"][0] > 0.5
    shares = dict(query.run(out, "SELECT source_file, reuse_share FROM report_summary WHERE year = 2022").rows)
    assert shares["a2022.txt"] > 0.5 and shares["b2022.txt"] < 0.5


def test_a_count_that_jumps_tenfold_is_a_finding_and_small_or_zero_counts_are_not(tmp_path):
    values = requests_values()
    jumped = {k: list(v) for k, v in values.items()}
    for row in ("new_received", "granted", "total"):
        jumped[row] = [v * 10 for v in values[row]]
    out = build(tmp_path, {"a2021.txt": pipe_report_2021(values, year=2021),
                           "a2022.txt": pipe_report_2021(jumped, year=2022)})
    found = pl.read_parquet(out / "violations.parquet").filter(pl.col("rule") == "Y1_year_on_year")
    assert set(found["cells"]) == {"received", "granted", "total"}  # 10+ on one side, ×10
    quality = query.run(out, "SELECT source_file, year_on_year, completeness, prose FROM report_quality "
                             "ORDER BY source_file").rows
    assert quality == [("a2021.txt", "passed", "passed", "passed"), ("a2022.txt", "failed", "passed", "passed")]


def test_ogi_check_prints_the_reviewers_findings(tmp_path):
    out = build(tmp_path, {"a.txt": with_prose(f"全年共收到政府信息公开申请{received_total() + 1}件。")})
    result = CliRunner().invoke(app, ["check", "--db", str(out)])
    assert result.exit_code == 0 and "Reviewer's checks: " in result.output
    assert "prose 1 failed" in result.output and "says" in result.output
