"""The analysis views of ogi.duckdb, on small reports whose every number is known."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from conftest import build_dataset, pipe_report_2021, requests_values

from pipeline.warehouse import query, views
from pipeline.knowledge import schemas, view_schemas

AGENCY = "测试县某某局"
LEAVES_EXCLUDED = ("new_received", "carried_over", "total", "carried_forward")


def balanced(rows: dict[str, list[int]]) -> dict[str, list[int]]:
    """Recompute row totals, 三(七) 总计 and 一 so that R1, R2 and R3 hold after editing some rows."""
    for row in rows.values():
        row[6] = sum(row[:6])
    leaves = [c for c in rows if c not in LEAVES_EXCLUDED]
    rows["total"] = [sum(rows[c][i] for c in leaves) for i in range(7)]
    rows["new_received"] = [rows["total"][i] + rows["carried_forward"][i] - rows["carried_over"][i]
                            for i in range(7)]
    return rows


def year_2023_values() -> dict[str, list[int]]:
    rows = requests_values(seed=2)
    rows["carried_over"] = [1, 1, 0, 0, 0, 0, 0]  # 2022 carried forward 1 natural person and 0 businesses
    rows["other_no_correction"] = [1, 0, 0, 0, 0, 0, 0]
    rows["other_other"] = [0, 0, 0, 0, 0, 2, 0]
    rows["ignored_duplicate"] = [0, 0, 0, 1, 0, 0, 0]
    return balanced(rows)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warehouse")
    inputs = folder / "in"
    inputs.mkdir()
    report_2022 = pipe_report_2021(agency=AGENCY, year=2022)
    (inputs / "b_2022.txt").write_text(report_2022, encoding="utf-8")
    # the same report once more, with a row whose numbers run short: 3 ambiguous cells, so it loses
    # even though its name sorts first
    (inputs / "a_2022_copy.txt").write_text(
        report_2022.replace("行政规范性文件 | 3 | 1 | 12", "行政规范性文件 | 3 | 12"), encoding="utf-8")
    (inputs / "c_2023.txt").write_text(pipe_report_2021(year_2023_values(), agency=AGENCY, year=2023),
                                       encoding="utf-8")
    out = build_dataset(inputs, folder / "out")
    con = query.connect(out)
    yield con
    con.close()


def rows(con, sql: str, *params) -> list[dict]:
    return con.sql(sql, params=list(params) or None).pl().to_dicts()


def test_report_summary_has_one_row_per_agency_and_year_with_the_table_totals(warehouse):
    summary = rows(warehouse, "SELECT * FROM report_summary ORDER BY year")
    assert [(r["year"], r["source_file"], r["copies"]) for r in summary] == [
        (2022, "b_2022.txt", 2), (2023, "c_2023.txt", 1)]
    picked = ("received", "carried_over", "granted", "partially_granted", "denied", "unable", "ignored",
              "other_processing", "total", "carried_forward", "reviews", "lawsuits")
    assert {k: summary[0][k] for k in picked} == {
        "received": 17, "carried_over": 0, "granted": 7, "partially_granted": 3, "denied": 1, "unable": 5,
        "ignored": 0, "other_processing": 0, "total": 16, "carried_forward": 1, "reviews": 2, "lawsuits": 1}
    assert {k: summary[1][k] for k in picked} == {
        "received": 20, "carried_over": 2, "granted": 8, "partially_granted": 3, "denied": 1, "unable": 5,
        "ignored": 1, "other_processing": 3, "total": 21, "carried_forward": 1, "reviews": 2, "lawsuits": 1}
    assert (summary[0]["n_ambiguous"], summary[0]["n_violations"], summary[0]["n_not_assessable"]) == (0, 0, 0)


def test_the_copy_with_fewer_ambiguous_cells_is_preferred_and_all_copies_stay_visible(warehouse):
    copies = rows(warehouse, "SELECT source_file, n_ambiguous, copies, preferred FROM report_copies ORDER BY source_file")
    assert copies == [
        {"source_file": "a_2022_copy.txt", "n_ambiguous": 3, "copies": 2, "preferred": False},
        {"source_file": "b_2022.txt", "n_ambiguous": 0, "copies": 2, "preferred": True},
        {"source_file": "c_2023.txt", "n_ambiguous": 0, "copies": 1, "preferred": True},
    ]
    everything = rows(warehouse, "SELECT source_file, preferred, received FROM report_summary_all ORDER BY source_file")
    assert [(r["source_file"], r["preferred"], r["received"]) for r in everything] == [
        ("a_2022_copy.txt", False, 17), ("b_2022.txt", True, 17), ("c_2023.txt", True, 20)]
    assert warehouse.execute("SELECT sum(value) FROM requests WHERE preferred AND row = 'new_received' "
                             "AND applicant_type = 'total'").fetchall()[0][0] == 17 + 20


def test_2021_other_processing_is_the_derived_sum_of_its_three_rows(warehouse):
    found = rows(warehouse, """
        SELECT row, applicant_type, value, status, row_label_en, row_group FROM requests
        WHERE source_file = 'c_2023.txt' AND row LIKE 'other_%' AND applicant_type IN ('natural_person', 'other_org', 'total')
        ORDER BY row_order, applicant_type_order""")
    derived = [r for r in found if r["row"] == "other_processing"]
    assert [(r["applicant_type"], r["value"], r["status"]) for r in derived] == [
        ("natural_person", 1, "derived"), ("other_org", 2, "derived"), ("total", 3, "derived")]
    assert {r["row_label_en"] for r in derived} == {"Other handling"}
    assert {r["row_group"] for r in found if r["row"] != "other_processing"} == {"other"}
    assert {r["row_group"] for r in derived} == {"results"}


def test_cross_year_compares_carried_forward_with_next_years_carried_over(warehouse):
    checks = {r["applicant_type"]: r for r in rows(warehouse, "SELECT * FROM cross_year")}
    assert set(checks) == {"natural_person", "commercial", "research", "social_welfare", "legal_services",
                           "other_org", "total"}
    assert {(r["year"], r["next_year"], r["agency"]) for r in checks.values()} == {(2022, 2023, AGENCY)}
    assert (checks["natural_person"]["carried_forward"], checks["natural_person"]["next_carried_over"],
            checks["natural_person"]["outcome"]) == (1, 1, "consistent")
    assert (checks["commercial"]["difference"], checks["commercial"]["outcome"]) == (1, "inconsistent")
    assert (checks["total"]["carried_forward"], checks["total"]["next_carried_over"],
            checks["total"]["outcome"]) == (1, 2, "inconsistent")
    assert checks["research"]["outcome"] == "consistent"


def test_every_view_table_and_column_has_a_comment(warehouse):
    objects = dict(warehouse.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal UNION ALL "
        "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal").fetchall())
    expected = set(view_schemas.parquet_models()) | set(view_schemas.warehouse())
    assert set(objects) == expected
    assert all(comment and len(comment) > 20 for comment in objects.values()), objects
    columns = warehouse.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                                "WHERE NOT internal").fetchall()
    missing = [(t, c) for t, c, comment in columns if not comment or comment == views.UNDOCUMENTED]
    assert missing == []
    comment = dict(((t, c), m) for t, c, m in columns)
    assert "2021" in comment[("report_summary", "other_processing")]
    assert "null when any term" in comment[("report_summary", "denied")]


@pytest.mark.parametrize("name", sorted(view_schemas.warehouse()))
def test_each_view_matches_its_pandera_schema(warehouse, name):
    frame = warehouse.sql(f"SELECT * FROM {name}").pl()
    assert frame.height > 0
    view_schemas.warehouse()[name].validate(frame, lazy=True)


def test_labels_cover_every_code_the_facts_use(warehouse, sample_dataset):
    for con in (warehouse, query.connect(sample_dataset)):
        for section, column in view_schemas.SECTION_COLUMN_NAMES.items():
            unlabelled = con.execute(
                f"SELECT DISTINCT row, {column} FROM {section} WHERE row_label_en IS NULL "
                f"OR {column}_label_en IS NULL OR row_order IS NULL").fetchall()
            assert unlabelled == [], section
    denied = rows(warehouse, "SELECT code, label_en FROM labels WHERE parent_group = 'denied' ORDER BY \"order\"")
    assert len(denied) == 8 and denied[0] == {"code": "denied_state_secret", "label_en": "Denied: state secret"}
    group = rows(warehouse, "SELECT * FROM labels WHERE kind = 'group' AND code = 'other'")[0]
    assert (group["label_zh"], group["template"], group["parent_group"]) == ("（六）其他处理", "2021", "results")


def test_sums_over_unread_cells_are_null_not_partial(sample_dataset):
    con = query.connect(sample_dataset)
    shuangbai = con.execute("SELECT received, granted, denied, total, n_ambiguous FROM report_summary "
                            "WHERE agency = '双柏县政务服务管理局'").fetchall()[0]
    assert shuangbai == (None, None, None, None, 190)
    # 衡阳 2019 prints 49 received and 49 handled, but its result rows add up to 47 (R3 fails): the summary
    # keeps the printed numbers and counts the failures
    hengyang = con.execute("SELECT received, total, granted + partially_granted + denied + unable + ignored "
                           "+ other_processing, n_violations FROM report_summary WHERE year = 2019").fetchall()[0]
    assert hengyang == (49, 49, 47, 13)  # 12 sums and the publication deadline


def test_section_views_pass_new_fact_columns_through(tmp_path):
    facts = schemas.facts_frame([]).with_columns(pl.lit(None, dtype=pl.Int32).alias("page"))
    facts.write_parquet(tmp_path / "facts.parquet")
    schemas.reports_frame([]).write_parquet(tmp_path / "reports.parquet")
    schemas.violations_frame([]).write_parquet(tmp_path / "violations.parquet")
    schemas.cross_year_frame([]).write_parquet(tmp_path / "cross_year_checks.parquet")
    schemas.facts_frame([]).write_parquet(tmp_path / "merged_copies.parquet")
    pl.DataFrame(schema=schemas.REUSE_SCHEMA).write_parquet(tmp_path / "prose_reuse.parquet")
    con = duckdb.connect()
    views.install(con, tmp_path)
    for section in view_schemas.SECTION_COLUMN_NAMES:
        assert "page" in con.sql(f"SELECT * FROM {section}").pl().columns
    comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'requests' "
                          "AND column_name = 'page'").fetchall()[0][0]
    assert comment == views.UNDOCUMENTED  # and test_every_view_table_and_column_has_a_comment catches it
