"""pandera models of the three output tables, and the frame builders that give them their types.

These check the pipeline's *own* output: a failure here is a bug in the builder and stops the build
(``SchemaErrors`` lists every failing case, validation is lazy). Problems of the *sources* (sums that
do not add up) are findings in the violations table instead.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.knowledge import domain

FACT_SCHEMA = {
    "report_id": pl.String, "source_file": pl.String, "agency": pl.String, "year": pl.Int16,
    "template": pl.String, "section": pl.String, "row": pl.String, "col": pl.String,
    "value": pl.Float64, "status": pl.String, "unit": pl.String, "line": pl.Int32, "raw": pl.String,
    "evidence": pl.String,
}
REPORT_SCHEMA = {
    "report_id": pl.String, "source_file": pl.String, "sha256": pl.String, "bytes": pl.Int64,
    "format": pl.String, "encoding": pl.String, "agency": pl.String, "year": pl.Int16,
    "agency_source": pl.String, "year_source": pl.String, "template": pl.String, "status": pl.String, "reason": pl.String, "n_cells": pl.Int32,
    "n_ambiguous": pl.Int32, "n_violations": pl.Int32, "notes": pl.String, "copies": pl.Int32,
    "preferred": pl.Boolean, "region_code": pl.String, "province": pl.String, "prefecture": pl.String,
    "county": pl.String, "township": pl.String, "level": pl.String, "kind": pl.String, "source_url": pl.String,
    "published": pl.Date, "published_source": pl.String,
}
VIOLATION_SCHEMA = {
    "report_id": pl.String, "rule": pl.String, "severity": pl.String, "outcome": pl.String,
    "section": pl.String, "row": pl.String, "col": pl.String, "expected": pl.Float64,
    "actual": pl.Float64, "cells": pl.String, "message": pl.String,
}
# Every instance of a cross-year rule, passed ones included (cross_year.parquet): the cross_year view
# reads these, so each rule is computed once, in rules.py.
CROSS_YEAR_SCHEMA = {**VIOLATION_SCHEMA, "previous_report_id": pl.String, "key": pl.String}
# The reuse of last year's prose per report that has a previous year (prose_reuse.parquet, check S).
REUSE_SCHEMA = {"report_id": pl.String, "previous_report_id": pl.String, "reuse_share": pl.Float64,
                "n_sentences": pl.Int32, "repeated": pl.List(pl.String)}
REPORT_COLUMNS = list(REPORT_SCHEMA)
FACT_COLUMNS = list(FACT_SCHEMA)


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=schema)
    # column lists build much faster than row dicts
    return pl.DataFrame({name: [row[name] for row in rows] for name in schema}, schema=schema)


def facts_frame(reports: list[tuple[dict, list]]) -> pl.DataFrame:
    """Facts of several reports: (report row, its FactCells) pairs; report fields repeat per cell."""
    from pipeline.extract.facts import REPORT_FIELDS, FactCell

    columns: dict[str, list] = {name: [] for name in FACT_SCHEMA}
    for report, cells in reports:
        if not cells:
            continue
        for name in REPORT_FIELDS:
            columns[name].extend([report[name]] * len(cells))
        for name, values in zip(FactCell._fields, zip(*cells)):
            columns[name].extend(values)
    return pl.DataFrame(columns, schema=FACT_SCHEMA)


def reports_frame(rows: list[dict]) -> pl.DataFrame:
    return _frame(rows, REPORT_SCHEMA)


def violations_frame(rows: list[dict]) -> pl.DataFrame:
    return _frame(rows, VIOLATION_SCHEMA)


def cross_year_frame(rows: list[dict]) -> pl.DataFrame:
    return _frame(rows, CROSS_YEAR_SCHEMA)


def _valid_code_pairs() -> pl.DataFrame:
    pairs = [
        (section, row, col)
        for template in domain.TEMPLATES
        for section in domain.SECTIONS
        for r in domain.layout(template, section)
        for col in (c.code for c in r.columns)
        for row in (r.code,)
    ]
    # a derived row (2021 other_processing) has the columns of its section's rows
    pairs += [(d.section, d.row, c.code) for d in domain.derived_sums()
              for c in domain.layout(d.template, d.section)[0].columns]
    return pl.DataFrame(pairs, schema=["section", "row", "col"], orient="row").unique()


class Facts(pa.DataFrameModel):
    """One row per table cell (plus derived rows), see spec/contract.md."""

    report_id: str = pa.Field(str_length={"min_value": 16, "max_value": 16},
                              description="stable id of the source report: first 16 hex digits of its SHA-256")
    source_file: str = pa.Field(description="input file, relative to the INPUT it was found under")
    agency: str = pa.Field(nullable=True, description="reporting body, full name in simplified script")
    year: pl.Int16 = pa.Field(nullable=True, in_range={"min_value": 2000, "max_value": 2100},
                              description="the year the report is about")
    template: str = pa.Field(isin=list(domain.TEMPLATES), description="official table layout: 2019 or 2021")
    section: str = pa.Field(isin=list(domain.SECTIONS), description="proactive, requests or appeals")
    row: str = pa.Field(description="row code (codes.csv)")
    col: str = pa.Field(description="column code (codes.csv); for requests the applicant type")
    value: pl.Float64 = pa.Field(nullable=True, description="the number; null exactly when blank, ambiguous or "
                                                            "not_printed")
    status: str = pa.Field(isin=list(domain.STATUSES), description="reported / blank / ambiguous / not_printed / derived")
    unit: str = pa.Field(nullable=True, description="unit as printed or given by the header")
    line: pl.Int32 = pa.Field(nullable=True, ge=1, description="1-based line in the source file")
    raw: str = pa.Field(nullable=True, description="source text the value was read from, unchanged")
    evidence: str = pa.Field(nullable=True, description="why a cell is ambiguous, or how a value was proven")

    class Config:
        strict = True
        coerce = False

    @pa.dataframe_check(error="row/col pair not in codes.csv for its section")
    def codes_are_canonical(cls, data: pa.PolarsData) -> pl.LazyFrame:
        valid = _valid_code_pairs().lazy().with_columns(pl.lit(True).alias("_ok"))
        return (data.lazyframe.join(valid, on=["section", "row", "col"], how="left", maintain_order="left")
                .select(pl.col("_ok").fill_null(False)))

    @pa.dataframe_check(error="value must be null exactly when status is blank, ambiguous or not_printed")
    def value_null_iff_unread(cls, data: pa.PolarsData) -> pl.LazyFrame:
        unread = pl.col("status").is_in(list(domain.UNREAD_STATUSES))
        return data.lazyframe.select(unread == pl.col("value").is_null())

    @pa.dataframe_check(error="counts and amounts are never negative (only 本年增/减 is signed)")
    def non_negative(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("value").is_null() | (pl.col("value") >= 0) | pl.col("col").is_in(list(domain.signed_columns())))

    @pa.dataframe_check(error="one fact per report, section, row and column (derived rows aside)")
    def one_fact_per_cell(cls, data: pa.PolarsData) -> pl.LazyFrame:
        key = ["report_id", "section", "row", "col"]
        printed = (pl.col("status") != "derived").alias("printed")
        return data.lazyframe.select(~pl.struct(*key, printed).is_duplicated())


class Reports(pa.DataFrameModel):
    """One row per input file."""

    report_id: str = pa.Field(description="first 16 hex digits of the file's SHA-256 (the same for identical files)")
    source_file: str = pa.Field(unique=True, description="input file, relative to its INPUT")
    sha256: str = pa.Field(str_length={"min_value": 64, "max_value": 64}, description="SHA-256 of the file's bytes")
    bytes: pl.Int64 = pa.Field(ge=0, description="file size")
    format: str = pa.Field(nullable=True, description="text, markdown, html, pdf, docx, doc, binary, empty ...")
    encoding: str = pa.Field(nullable=True, description="text encoding detected (utf-8, gb18030, utf-16 ...)")
    agency: str = pa.Field(nullable=True, description="reporting body, full name in simplified script")
    year: pl.Int16 = pa.Field(nullable=True, description="the year the report is about")
    agency_source: str = pa.Field(nullable=True, isin=["text", "manifest"],
                                  description="where agency came from: the report's text or the user's manifest")
    year_source: str = pa.Field(nullable=True, isin=["text", "manifest"],
                                description="where year came from: the report's text or the user's manifest")
    template: str = pa.Field(nullable=True, isin=list(domain.TEMPLATES),
                             description="official table layout found: 2019 or 2021 (decided from the tables)")
    status: str = pa.Field(isin=["parsed", "partial", "rejected"],
                           description="parsed (every cell read or flagged), partial (a table or row missing), "
                                       "rejected (not a readable report)")
    reason: str = pa.Field(nullable=True, description="what to do about a partial or rejected report")
    n_cells: pl.Int32 = pa.Field(ge=0, description="table cells written to facts (derived rows not counted)")
    n_ambiguous: pl.Int32 = pa.Field(ge=0, description="cells the text does not determine")
    n_violations: pl.Int32 = pa.Field(ge=0, description="failed rule instances (not counting not-assessable ones)")
    notes: str = pa.Field(nullable=True, description="how the reader handled the layout (line order, subtotals ...)")
    copies: pl.Int32 = pa.Field(ge=0, description="readable files giving a report of the same agency and year "
                                                  "(1 when agency or year is unknown; 0 for a rejected file)")
    preferred: bool = pa.Field(description="the copy used for its agency and year (cross-year rules, "
                                           "report_summary): parsed before partial, then the published form "
                                           "(PDF, Word, web page before text dumps, data/formats.csv), then "
                                           "fewest ambiguous cells, fewest failed rules, file name")
    region_code: str = pa.Field(nullable=True, str_length={"min_value": 6, "max_value": 6},
                                description="six-digit administrative division code (GB/T 2260, the Ministry of "
                                            "Civil Affairs list of 2025-12-31) of the place the agency's name "
                                            "starts with; a township gives its county's code; null when the "
                                            "name names no place or one that several places share")
    province: str = pa.Field(nullable=True, description="province of the agency's place")
    prefecture: str = pa.Field(nullable=True, description="prefecture-level division of the agency's place")
    county: str = pa.Field(nullable=True, description="county-level division of the agency's place")
    township: str = pa.Field(nullable=True, description="township-level division (乡, 镇, 街道) of the agency's place")
    level: str = pa.Field(nullable=True, isin=["central", "province", "prefecture", "county", "township"],
                          description="the agency's level: central, province, prefecture, county or township")
    kind: str = pa.Field(nullable=True, isin=["government", "department", "committee", "other"],
                         description="government (a people's government, or a place named alone), department "
                                     "(an office, bureau, commission ...), committee (a 管委会) or other, from how "
                                     "the name ends (knowledge/data/agency_suffixes.csv)")
    source_url: str = pa.Field(nullable=True, description="the page address the report gives: <meta name=\"Url\">, "
                                                         "its canonical link, or a 原文链接 line")
    published: pl.Date = pa.Field(nullable=True, description="publication date")
    published_source: str = pa.Field(nullable=True, description="where published comes from: page meta PubDate, "
                                                                "publication date line, date under the signature, "
                                                                "creation date of the file")

    class Config:
        strict = True

    @pa.dataframe_check(error="a partial or rejected report needs a reason")
    def reason_when_not_parsed(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("status") == "parsed") | pl.col("reason").is_not_null())


class Violations(pa.DataFrameModel):
    """One row per failed or not assessable rule instance (rules.csv), and findings made while reading."""

    report_id: str = pa.Field(description="the report checked (for cross-year rules: the later year's report)")
    rule: str = pa.Field(description="stable rule id, e.g. R1_balance, R2_row_total, X1_carry_over, P0_non_negative")
    severity: str = pa.Field(isin=list(domain.severities()),
                             description="official (printed in the template), definitional (implied by 总计), "
                                         "plausibility (usual, not guaranteed), cross_year, copies (copies of one "
                                         "report disagree), or a reviewer's check (rules.csv, column severity)")
    outcome: str = pa.Field(isin=["failed", "not_assessable"],
                            description="failed, or not_assessable when an operand is blank, ambiguous or missing")
    section: str = pa.Field(nullable=True, isin=list(domain.SECTIONS),
                            description="table of the rule; null for a rule about the whole report")
    row: str = pa.Field(nullable=True, description="row code the rule is about, when it is about one row")
    col: str = pa.Field(nullable=True, description="column code the rule is about, when it is about one column")
    expected: pl.Float64 = pa.Field(nullable=True, description="sum of the parts (right-hand side) when failed")
    actual: pl.Float64 = pa.Field(nullable=True, description="the printed total side (left-hand side) when failed")
    cells: str = pa.Field(nullable=True, description="cells involved, as row/col@line of the source")
    message: str = pa.Field(description="what the rule says and what was found")

    class Config:
        strict = True


class CrossYearChecks(pa.DataFrameModel):
    """Every instance of a cross-year rule (X1–X3), passed ones included."""

    report_id: str = pa.Field(description="the later year's report (preferred copy)")
    rule: str = pa.Field(description="X1_carry_over, X2_in_force or X3_item_count (rules.csv)")
    severity: str = pa.Field(isin=["cross_year"], description="cross_year")
    outcome: str = pa.Field(isin=["passed", "failed", "not_assessable"],
                            description="passed, failed, or not_assessable when an operand was not read")
    section: str = pa.Field(isin=list(domain.SECTIONS), description="table of the rule")
    row: str = pa.Field(nullable=True, description="row code the rule is about, when it is about one row")
    col: str = pa.Field(nullable=True, description="column code the rule is about, when it is about one column")
    expected: pl.Float64 = pa.Field(nullable=True, description="right-hand side (from the year before); null when "
                                                               "not assessable")
    actual: pl.Float64 = pa.Field(nullable=True, description="left-hand side (this year); null when not assessable")
    cells: str = pa.Field(nullable=True, description="cells involved, as row/col@line of the source")
    message: str = pa.Field(description="what the rule says and what was found")
    previous_report_id: str = pa.Field(description="the earlier year's report (preferred copy)")
    key: str = pa.Field(description="the column (X1) or row (X2, X3) the instance is about")

    class Config:
        strict = True


class ProseReuse(pa.DataFrameModel):
    """How much of a report's prose repeats the same agency's report of the year before (check S)."""

    report_id: str = pa.Field(description="the report (preferred copy of its agency and year)")
    previous_report_id: str = pa.Field(description="the agency's report of the year before (preferred copy)")
    reuse_share: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 1},
                                       description="share of the prose's characters in sentences repeated from "
                                                   "the year before (numbers masked; boilerplate and sentences "
                                                   "shorter than thresholds.csv's reuse_min_chars left out)")
    n_sentences: pl.Int32 = pa.Field(ge=0, description="sentences of the prose compared")
    repeated: pl.List(pl.String) = pa.Field(description="the repeated sentences (numbers written #)")

    class Config:
        strict = True


def validate(facts: pl.DataFrame, reports: pl.DataFrame, violations: pl.DataFrame) -> None:
    """Raise pandera's SchemaErrors (listing every failure) when the builder produced bad output."""
    validate_facts(facts)
    validate_reports(reports)
    validate_violations(violations)


def validate_facts(facts: pl.DataFrame) -> None:
    Facts.validate(facts, lazy=True)


def validate_reports(reports: pl.DataFrame) -> None:
    Reports.validate(reports, lazy=True)


def validate_violations(violations: pl.DataFrame) -> None:
    Violations.validate(violations, lazy=True)
