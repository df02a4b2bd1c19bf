import polars as pl
from conftest import pipe_report_2021, requests_values

from pipeline.checks import rules
from pipeline.process import process_bytes
from pipeline.ingest.discover import SourceFile


def facts_of(values) -> pl.DataFrame:
    result = process_bytes(SourceFile(None, "r.txt"), pipe_report_2021(values).encode())
    return result.facts_frame()


def test_consistent_report_has_no_violations():
    assert rules.check(facts_of(requests_values())).is_empty()


def test_broken_sums_are_findings_with_expected_and_actual():
    values = requests_values()
    values["new_received"][0] += 2  # 自然人 column now breaks R1, and the row breaks R2
    found = rules.check(facts_of(values))
    failed = {(r["rule"], r["row"], r["col"], r["expected"], r["actual"]) for r in found.iter_rows(named=True)}
    natural = values["new_received"][0]
    assert ("R2_row_total", "new_received", "total", sum(values["new_received"][:6]), values["new_received"][6]) in failed
    assert any(rule == "R1_balance" and col == "natural_person" and exp == natural for rule, _, col, exp, _ in failed)
    assert set(found["outcome"]) == {"failed"}
    assert all("@" in cells for cells in found["cells"])  # each finding names its cells with lines


def test_rules_with_unread_operands_are_not_assessable_never_passed():
    facts = facts_of(requests_values())
    facts = facts.with_columns(
        pl.when((pl.col("row") == "granted") & (pl.col("col") == "research"))
        .then(pl.lit("ambiguous")).otherwise(pl.col("status")).alias("status"),
        pl.when((pl.col("row") == "granted") & (pl.col("col") == "research"))
        .then(None).otherwise(pl.col("value")).alias("value"),
    )
    found = rules.check(facts)
    assert set(found["outcome"]) == {"not_assessable"}
    assert {(r["rule"], r["row"], r["col"]) for r in found.iter_rows(named=True)} == {
        ("R2_row_total", "granted", "total"), ("R3_result_total", "total", "research")}
    assert "granted" in found.filter(pl.col("rule") == "R3_result_total")["message"][0]


def test_a_negative_count_is_ambiguous_and_a_plausibility_finding():
    text = pipe_report_2021().replace("行政处罚 | 7 |", "行政处罚 | -7 |")
    result = process_bytes(SourceFile(None, "r.txt"), text.encode())
    cell = [f for f in result.fact_rows() if f["row"] == "administrative_penalty"][0]
    assert (cell["status"], cell["value"]) == ("ambiguous", None)
    assert [(v["rule"], v["actual"]) for v in result.findings if v["rule"].startswith("P")] == [
        ("P0_non_negative", -7.0)]


def test_cross_year_carry_over_compares_consecutive_years_of_one_agency():
    def report(year, carried_over, carried_forward, agency="测试县某某局"):
        values = requests_values()
        values["carried_over"] = [carried_over, 0, 0, 0, 0, 0, carried_over]
        values["carried_forward"] = [carried_forward, 0, 0, 0, 0, 0, carried_forward]
        values["new_received"] = [values["total"][i] + values["carried_forward"][i] - values["carried_over"][i]
                                  for i in range(7)]
        text = pipe_report_2021(values, agency=agency, year=year)
        return process_bytes(SourceFile(None, f"{agency}{year}.txt"), text.encode()).facts_frame()
    facts = pl.concat([report(2021, 0, 2), report(2022, 3, 1), report(2023, 1, 0),
                       report(2022, 5, 0, agency="另一县某某局")])
    found = rules.check(facts).filter(pl.col("rule") == "X1_carry_over")
    assert {(r["col"], r["expected"], r["actual"], r["outcome"]) for r in found.iter_rows(named=True)} == {
        ("natural_person", 2.0, 3.0, "failed"), ("total", 2.0, 3.0, "failed")}
