"""Wide tables for spreadsheets (``ogi export``): the report summary, and each section laid out like the
printed table (one line per report and row, one column per column code), written as CSV in UTF-8 with
a byte-order mark so that Excel opens the Chinese text correctly.

Values come from the ``report_cells`` view (one reading per agency and year; ``cells`` for every file):
the printed number, or the derived one when nothing was printed. Counts are integers. A cell that was
not read stays empty, and the line's ``not_reported`` column says why (blank, ambiguous, not_printed).
``--panel`` writes one row per agency and year with every cell as a typed column.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.knowledge import domain, labels
from pipeline.knowledge.view_schemas import SECTION_COLUMN_NAMES
from pipeline.warehouse import views
from pipeline.warehouse.views import quote


def _money_columns(section: str) -> set[str]:
    return {c.code for t in domain.TEMPLATES for r in domain.layout(t, section) for c in r.columns if c.money}


def _typed(code: str, money: set[str]) -> str:
    """Counts as integers; amounts keep their decimals (in the unit of the ``unit`` column)."""
    return "DOUBLE" if code in money else "BIGINT"


def section_sql(section: str, preferred_only: bool) -> str:
    cols = [c.code for c in labels.code_labels() if (c.section, c.axis) == (section, "col")]
    cols = list(dict.fromkeys(cols))  # requests lists `total` as a row and a column: one column here
    money = _money_columns(section)
    values = ",\n       ".join(f"CAST(max(c.value) FILTER (WHERE c.col = {quote(code)}) AS {_typed(code, money)}) "
                                f"AS \"{code}\"" for code in cols)
    order_of_col = "k.\"order\""
    # one reading per agency and year (the merge of its copies), or every file
    cells = "report_cells" if preferred_only else "cells"
    return f"""
SELECT c.report_id, c.agency, c.year, c.template,
       r."order" AS row_order, c.row, r.label_zh AS row_label_zh, r.label_en AS row_label_en,
       {values},
       coalesce(string_agg(c.col || ': ' || c.status, '; ' ORDER BY {order_of_col})
                FILTER (WHERE c.status IN {views.in_list(domain.UNREAD_STATUSES)}), '') AS not_reported,
       CASE WHEN count(DISTINCT c.unit) > 1
            THEN string_agg(c.col || ': ' || c.unit, '; ' ORDER BY {order_of_col}) FILTER (WHERE c.unit IS NOT NULL)
            ELSE any_value(c.unit) END AS unit,
       string_agg(DISTINCT c.source_file, '; ') AS source_files
FROM {cells} c
JOIN report_copies p ON p.report_id = c.report_id {"" if preferred_only else "AND p.source_file = c.source_file"}
LEFT JOIN labels r ON r.section = c.section AND r.axis = 'row' AND r.kind = 'code' AND r.code = c.row
LEFT JOIN labels k ON k.section = c.section AND k.axis = 'col' AND k.kind = 'code' AND k.code = c.col
WHERE c.section = {quote(section)} {"AND p.preferred" if preferred_only else ""}
GROUP BY ALL
ORDER BY c.year, c.agency, c.report_id, r."order\""""


PANEL_SEPARATOR = "__"
AGENCY_COLUMNS = ("agency", "year", "template", "region_code", "province", "prefecture", "county", "township",
                  "level", "kind", "published", "source_url", "copies", "report_id", "source_file", "status")


def panel(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per agency and year (report_cells), every cell of either template a typed column named
    ``section__row__col`` (counts Int64, amounts Float64 with a ``__unit`` column), and the agency's
    metadata. A cell not read is null."""
    cells = con.sql("SELECT report_id, section, row, col, value, status, unit FROM report_cells "
                    "WHERE status <> 'derived' OR NOT EXISTS (SELECT 1 FROM report_cells p WHERE "
                    "p.report_id = report_cells.report_id AND p.section = report_cells.section AND "
                    "p.row = report_cells.row AND p.col = report_cells.col AND p.status <> 'derived')").pl()
    reports = con.sql(f"SELECT {', '.join(AGENCY_COLUMNS)} FROM reports WHERE preferred "
                      "ORDER BY year, agency, source_file").pl()
    names, money_units = [], []
    for section in domain.SECTIONS:
        money = _money_columns(section)
        for template in domain.TEMPLATES:
            for row in domain.layout(template, section):
                for col in row.columns:
                    name = PANEL_SEPARATOR.join((section, row.code, col.code))
                    if name not in names:
                        names.append(name)
                        if col.code in money:
                            money_units.append(name)
        derived = domain.derived_row(section)
        for col in (domain.layout(derived.template, section)[0].columns if derived else ()):
            name = PANEL_SEPARATOR.join((section, derived.row, col.code))
            if name not in names:
                names.append(name)
    keyed = cells.with_columns(pl.concat_str(["section", "row", "col"], separator=PANEL_SEPARATOR).alias("cell"))
    wide = keyed.pivot(on="cell", index="report_id", values="value", aggregate_function="first")
    units = (keyed.filter(pl.col("cell").is_in(money_units))
             .with_columns((pl.col("cell") + PANEL_SEPARATOR + "unit").alias("cell"))
             .pivot(on="cell", index="report_id", values="unit", aggregate_function="first"))
    out = reports.join(wide, on="report_id", how="left").join(units, on="report_id", how="left") \
        if units.width > 1 else reports.join(wide, on="report_id", how="left")
    typed = []
    for name in names:
        dtype = pl.Float64 if name in money_units else pl.Int64
        typed.append((pl.col(name) if name in out.columns else pl.lit(None)).cast(dtype).alias(name))
        if name in money_units:
            unit = name + PANEL_SEPARATOR + "unit"
            typed.append((pl.col(unit) if unit in out.columns else pl.lit(None)).cast(pl.String).alias(unit))
    return out.select(*AGENCY_COLUMNS, *typed)


def wide_tables(con: duckdb.DuckDBPyConnection, preferred_only: bool = True) -> dict[str, pl.DataFrame]:
    """name -> table: report_summary, one wide table per section, and labels."""
    summary = "report_summary" if preferred_only else "report_summary_all"
    out = {"report_summary": con.sql(f"SELECT * FROM {summary}").pl()}
    for section in SECTION_COLUMN_NAMES:
        out[section] = con.sql(section_sql(section, preferred_only)).pl()
    out["labels"] = con.sql('SELECT * FROM labels ORDER BY section, axis, kind, "order"').pl()
    return out


def write_csv_tables(tables: dict[str, pl.DataFrame], folder: Path) -> list[Path]:
    """One ``NAME.csv`` per table (UTF-8 with BOM, empty field for null). Returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        frame.write_csv(path, include_bom=True)
        paths.append(path)
    return paths
