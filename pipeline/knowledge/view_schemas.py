"""pandera schemas of the warehouse's views and labels table (ogi.duckdb).

They describe what ``views.py`` creates: the descriptions become the DuckDB column comments and the
data dictionary, and the tests validate the views' real output against them. Columns a view passes
through unchanged from ``facts`` or ``reports`` are described once, in ``schemas.py``, and are not
repeated here (the views select ``*`` so that new Parquet columns reach them).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.knowledge import domain, labels, schemas

# The name a section view gives the facts column `col`, because it means something different per table.
SECTION_COLUMN_NAMES = {"requests": "applicant_type", "proactive": "measure", "appeals": "outcome"}
SECTION_TITLES = {
    "requests": "收到和处理政府信息公开申请情况 (Table 3: requests received and how they were handled)",
    "proactive": "主动公开政府信息情况 (Table 2: proactive disclosure)",
    "appeals": "政府信息公开行政复议、行政诉讼情况 (Table 4: administrative reviews and lawsuits)",
}
USABLE_STATUSES = domain.USABLE_STATUSES
STATUS_MEANINGS = (
    "`reported` (read from the source), `blank` (printed empty, `-`, `/`, `—`, `无`: not 0), `ambiguous` (the "
    "text does not determine the cell; value null, never guessed), `not_printed` (the report's tables have no "
    "such row at all, e.g. the 2021 sub-rows of (六) in a report printing the single 2019-style row: nothing "
    "was left unread), `derived` (computed: the 2021 "
    "`other_processing` = sum of its three sub-rows; money converted from 元 to 万元)."
)
COPY_ORDER = ("status parsed before partial, then the published form (PDF, Word, web page before text dumps; "
              "formats.csv), then fewest ambiguous cells, then fewest failed within-report rules, then source_file "
              "(decided at build time, pipeline/copies.py)")
COMPARABILITY = (
    "2021 tables split (六)其他处理 into three rows (other_no_correction, other_unpaid_fee, other_other); "
    "their sum is stored as a derived row other_processing (status derived), comparable with the single "
    "2019 row. Never add other_processing to its three sub-rows."
)


def _column(dtype, description: str, nullable: bool = True, checks=None) -> pa.Column:
    return pa.Column(dtype, checks=checks, nullable=nullable, description=description)


LABELS = pa.DataFrameSchema(
    {
        "section": _column(str, "proactive, requests or appeals", False, pa.Check.isin(list(domain.SECTIONS))),
        "axis": _column(str, "row or col: which axis of the table the code labels", False,
                        pa.Check.isin(list(labels.AXES))),
        "kind": _column(str, "code (a row or column code of codes.csv) or group (a parent group header, which "
                             "carries no number of its own)", False, pa.Check.isin(["code", "group"])),
        "code": _column(str, "the code (facts.row / facts.col), or the group name", False),
        "template": _column(str, "templates the code exists in: both, 2019 or 2021 (codes.csv)"),
        "order": _column(pl.Int32, "printed order among the section's codes of this axis (a group takes the "
                                   "order of its first member)", False),
        "label_zh": _column(str, "Chinese label as in the official table (codes.csv)", False),
        "label_en": _column(str, "English label (pipeline/knowledge/data/labels_en.csv)", False),
        "parent_group": _column(str, "the group the code or group sits in (pipeline/knowledge/data/label_groups.csv); "
                                     "null at top level"),
        "note": _column(str, "remarks: templates, comparability"),
    },
    name="labels",
    description="codes of the rows and columns of the three tables, and their parent groups, with Chinese and "
                "English labels and printed order. Join on (section, axis, code) with kind = 'code'.",
    unique=["section", "axis", "code"],
)

REPORT_COPIES = pa.DataFrameSchema(
    {
        "report_id": _column(str, "the report (first 16 hex digits of the file's SHA-256)", False),
        "source_file": _column(str, "input file, relative to its INPUT", False),
        "agency": _column(str, "reporting body"),
        "year": _column(pl.Int16, "the year the report is about"),
        "status": _column(str, "parsed or partial (rejected files have no data and are left out)", False),
        "n_ambiguous": _column(pl.Int32, "cells with status ambiguous", False),
        "n_violations": _column(pl.Int32, "failed sum rules", False),
        "copies": _column(pl.Int64, "input files giving a report of the same agency and year (the same report "
                                    "saved as text and HTML, or two PDF extractions); 1 when agency or year "
                                    "is unknown", False, pa.Check.ge(1)),
        "preferred": _column(bool, f"true for the one copy per agency and year used by report_summary and "
                                   f"cross_year: {COPY_ORDER}", False),
    },
    name="report_copies",
    description="readable input files grouped by (agency, year): which copy of a report is preferred, so that "
                "totals over reports do not count the same report twice",
)

CELLS = pa.DataFrameSchema(
    {},
    name="cells",
    description="facts with one row per cell: the printed fact, or the derived one when nothing was printed "
                "(2021 other_processing). Money printed in 元 keeps the printed row here; the 万元 conversion "
                f"is a derived row in facts. The sum rules and report_summary read these values. {COMPARABILITY}",
)


def section_view(section: str) -> pa.DataFrameSchema:
    name = SECTION_COLUMN_NAMES[section]
    return pa.DataFrameSchema(
        {
            name: _column(str, f"column code of the table (facts.col): {_codes(section, 'col')}", False),
            "value": _column(pl.Int64, "the count (an integer); null when the cell was not read"
                             + ("; null for an amount, which is in the amount column" if section == "proactive"
                                else "")),
            **({"amount": _column(pl.Decimal(18, 4), "an amount of money (procurement, fees) in the unit of the "
                                                       "unit column, as printed (元, 万元, or unspecified when the "
                                                       "report gives none); null for counts")}
               if section == "proactive" else {}),
            "preferred": _column(bool, "true for the preferred copy of the report of this agency and year "
                                       "(report_copies): filter on it to count each report once", False),
            "row_order": _column(pl.Int32, "printed order of the row (labels.order)"),
            f"{name}_order": _column(pl.Int32, f"printed order of the {name} (labels.order)"),
            "row_label_zh": _column(str, "Chinese label of the row (codes.csv)"),
            "row_label_en": _column(str, "English label of the row (labels_en.csv)"),
            "row_group": _column(str, "parent group of the row (labels.parent_group), e.g. denied for the 8 "
                                      "denial reasons; null at top level"),
            f"{name}_label_zh": _column(str, f"Chinese label of the {name}"),
            f"{name}_label_en": _column(str, f"English label of the {name}"),
        },
        name=section,
        description=f"{SECTION_TITLES[section]}: one row per cell of every report (the printed value, or the "
                    f"derived one when nothing was printed, as in cells) with section = '{section}', with labels. "
                    f"Rows: {_codes(section, 'row')}."
                    + (f" {COMPARABILITY}" if section == "requests" else "")
                    + (" An amount printed in 元 appears once, in 元 (facts also holds its 万元 conversion as a "
                       "derived row)." if section == "proactive" else ""),
    )


def _codes(section: str, axis: str) -> str:
    return ", ".join(dict.fromkeys(c.code for c in labels.code_labels() if (c.section, c.axis) == (section, axis)))


def report_summary(name: str = "report_summary") -> pa.DataFrameSchema:
    columns = {
        "report_id": _column(str, "the report", False),
        "source_file": _column(str, "input file of the report", False),
        "agency": _column(str, "reporting body"),
        "year": _column(pl.Int16, "the year the report is about"),
        "template": _column(str, "official table layout: 2019 or 2021"),
        "status": _column(str, "parsed or partial", False),
        "copies": _column(pl.Int64, "input files giving a report of the same agency and year", False),
        "preferred": _column(bool, f"the copy chosen for its agency and year: {COPY_ORDER}", False),
    }
    for name in ("region_code", "province", "prefecture", "county", "level", "kind", "published"):
        columns[name] = _column(schemas.REPORT_SCHEMA[name], schemas.Reports.to_schema().columns[name].description)
    for s in labels.summary_columns():
        terms = " + ".join(f"{s.section}[{row}, {s.col}]" for row in s.rows)
        columns[s.column] = _column(
            pl.Int64, f"{s.label_en} ({s.label_zh}) = {terms}; null when any term is blank, ambiguous or "
                      f"missing (a sum is never guessed)", checks=pa.Check.ge(0))
    for s in labels.summary_columns():
        if s.parts_rules:
            columns[s.flag] = _column(
                bool, f"true when {' or '.join(s.parts_rules)} failed on the cells of {s.column}: the printed "
                      f"total contradicts its parts, so {s.column} is not to be trusted as a total", False)
    columns |= {
        "n_cells": _column(pl.Int32, "table cells of the report (derived rows not counted)", False),
        "n_ambiguous": _column(pl.Int32, "cells with status ambiguous (not_printed cells are not counted: nothing "
                                         "was left unread there)", False),
        "n_violations": _column(pl.Int32, "failed rules of this file (violations with outcome failed)", False),
        "n_not_assessable": _column(pl.Int64, "sum-rule checks that could not be made because an operand was "
                                              "not read", False),
        "n_copy_conflicts": _column(pl.Int64, "cells the copies of the report print differently (rule M1; they are "
                                              "ambiguous in report_cells)", False),
        "reuse_share": _column(pl.Float64, "share of the prose repeated from the agency's report of the year before "
                                           "(prose_reuse, check S); null without a previous year"),
    }
    which = ("one per agency and year, from report_cells (the preferred copy's cells, or the merge of its copies: "
             "a cell read by any copy is read)" if name == "report_summary"
             else "every readable input file, copies included (report_summary keeps one per agency and year)")
    return pa.DataFrameSchema(
        columns, name=name,
        description=f"one row per report, {which}: Table 3 totals (column 总计) by result group and Table 4 "
                    f"totals, with data-quality counts. Requests: received + carried_over = total + "
                    f"carried_forward (R1); total = granted + partially_granted + denied + unable + ignored + "
                    f"other_processing (R3). {COMPARABILITY}",
    )


CROSS_YEAR = pa.DataFrameSchema(
    {
        "agency": _column(str, "reporting body (the same name in both years)", False),
        "year": _column(pl.Int16, "year Y", False),
        "next_year": _column(pl.Int16, "year Y + 1", False),
        "applicant_type": _column(str, "Table 3 column", False),
        "carried_forward": _column(pl.Float64, "四、结转下年度继续办理 in year Y"),
        "next_carried_over": _column(pl.Float64, "二、上年结转 in year Y + 1"),
        "difference": _column(pl.Float64, "next_carried_over - carried_forward; null unless both were read"),
        "outcome": _column(str, "consistent, inconsistent, or not_assessable (a cell not read)", False,
                           pa.Check.isin(["consistent", "inconsistent", "not_assessable"])),
        "report_id": _column(str, "report of year Y (preferred copy)", False),
        "next_report_id": _column(str, "report of year Y + 1 (preferred copy)", False),
        "source_file": _column(str, "input file of the report of year Y", False),
        "next_source_file": _column(str, "input file of the report of year Y + 1", False),
    },
    name="cross_year",
    description="cross-year check X1: requests carried forward at the end of year Y should equal those carried "
                "over at the start of Y + 1, per applicant column, for the preferred reports of an agency in "
                "consecutive years. Expected, not an official rule. Read from cross_year_checks (rule "
                "X1_carry_over), where the rule is computed once; its failures are the X1 rows of violations.",
)


REPORT_CELLS = pa.DataFrameSchema(
    {},
    name="report_cells",
    description="one reading of every cell per agency and year (columns as in facts, one value per cell as in "
                "cells): the preferred copy's cells, or, where several files give the same report, the merge of "
                "the copies: a cell the copies read alike is reported (or blank) with the files in evidence; "
                "copies that disagree make it ambiguous with each copy's value in evidence (rule M1 in "
                "violations); source_file is the copy the cell was read from, report_id the preferred copy's",
)


RULES = pa.DataFrameSchema(
    {
        "rule": _column(str, "rule id (violations.rule); its first letter is its family: R sums, P plausibility, X "
                             "cross-year, M copies, C completeness, T prose against tables, D deadline, S reuse, Y "
                             "year on year", False),
        "check": _column(str, "how the rule is checked: sum, reading, copies, completeness, prose, deadline, reuse, "
                              "year_on_year", False),
        "severity": _column(str, "severity of a failure", False),
        "section": _column(str, "table of a sum rule"),
        "scope": _column(str, "report, cross_year or copies", False),
        "message": _column(str, "what the rule says", False),
    },
    name="rules", description="every rule of pipeline/knowledge/data/rules.csv: what a violation's rule id means")


def _family_columns() -> dict[str, pa.Column]:
    families = {"sums": "the sum rules R1–R4 and plausibility P (rules.csv, check sum)",
                "completeness": "the six parts and the three tables (C)", "prose": "prose against tables (T)",
                "deadline": "publication deadline (D)", "reuse": "prose reused from the year before (S)",
                "year_on_year": "counts against the year before (Y)", "copies": "copies of the report agree (M)"}
    out = {}
    for family, what in families.items():
        out[family] = _column(str, f"{what}: failed, not_assessable (only unassessable instances) or passed "
                                   "(nothing found)", False)
        out[f"{family}_failed"] = _column(pl.Int64, f"{what}: failed instances", False)
        out[f"{family}_details"] = _column(str, f"{what}: the messages of its findings")
    return out


REPORT_QUALITY = pa.DataFrameSchema(
    {
        "report_id": _column(str, "the report", False),
        "source_file": _column(str, "input file", False),
        "agency": _column(str, "reporting body"),
        "year": _column(pl.Int16, "the year the report is about"),
        "status": _column(str, "parsed or partial", False),
        "preferred": _column(bool, "the copy used for its agency and year", False),
        "kind": _column(str, "kind of agency (decides the deadline)"),
        "published": _column(pl.Date, "publication date"),
        "published_source": _column(str, "where the date comes from"),
        **_family_columns(),
        "reuse_share": _column(pl.Float64, "share of the prose repeated from the year before"),
        "previous_report_id": _column(str, "the report of the year before that the prose was compared with"),
    },
    name="report_quality",
    description="the reviewer's view: one row per readable file with the outcome of each family of checks "
                "(sums, completeness, prose against tables, deadline, reuse, year on year, copies) and the "
                "messages of its findings; ogi check prints it",
)


def warehouse() -> dict[str, pa.DataFrameSchema]:
    """Every view and table of ogi.duckdb beyond the Parquet ones, by name."""
    out = {"labels": LABELS, "rules": RULES, "report_copies": REPORT_COPIES, "cells": CELLS,
           "report_cells": REPORT_CELLS, "report_quality": REPORT_QUALITY}
    out |= {section: section_view(section) for section in SECTION_COLUMN_NAMES}
    out |= {"report_summary": report_summary(), "report_summary_all": report_summary("report_summary_all"),
            "cross_year": CROSS_YEAR}
    return out


def parquet_models() -> dict[str, type[pa.DataFrameModel]]:
    return {"facts": schemas.Facts, "reports": schemas.Reports, "violations": schemas.Violations,
            "cross_year_checks": schemas.CrossYearChecks, "merged_copies": schemas.Facts,
            "prose_reuse": schemas.ProseReuse}


PARQUET_DESCRIPTIONS = {
    "facts": "facts.parquet: one row per table cell of every report, with provenance (source_file, line, raw, "
             "evidence), plus derived rows (status derived) that make the templates comparable. "
             "Long format: section, row, col, value, status.",
    "reports": "reports.parquet: one row per input file, with its status (parsed / partial / rejected), the "
               "reason a person can act on, and cell, ambiguity and violation counts",
    "violations": "violations.parquet: rules (rules.csv: the sum rules 勾稽关系 R1–R4, plausibility P, cross-year "
                  "X, copies M) that failed or could not be assessed, one row per rule instance, with the cells "
                  "involved",
    "cross_year_checks": "cross_year_checks.parquet: every instance of the cross-year rules (X1–X3), passed "
                         "ones included, between the preferred copies of an agency's reports of consecutive "
                         "years; the failed and not assessable ones are also in violations",
    "merged_copies": "merged_copies.parquet: for reports given by several files (copies), one reading of each "
                     "cell merged from the copies (see report_cells); columns as in facts",
    "prose_reuse": "prose_reuse.parquet: for every report whose agency has a report of the year before, the share "
                   "of its prose repeated from it and the repeated sentences (check S)",
}
