"""Wide tables for spreadsheets (``ogi export``): the report summary, and each section laid out like the
printed table (one line per report and row, one column per column code), written as CSV in UTF-8 with
a byte-order mark so that Excel opens the Chinese text correctly.

Values come from the ``cells`` view: the printed number, or the derived one when nothing was printed.
A cell that was not read stays empty, and the line's ``not_reported`` column says why.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.knowledge import labels
from pipeline.knowledge.view_schemas import SECTION_COLUMN_NAMES
from pipeline.warehouse.views import quote


def section_sql(section: str, preferred_only: bool) -> str:
    cols = [c.code for c in labels.code_labels() if (c.section, c.axis) == (section, "col")]
    cols = list(dict.fromkeys(cols))  # requests lists `total` as a row and a column: one column here
    values = ",\n       ".join(f"max(c.value) FILTER (WHERE c.col = {quote(code)}) AS \"{code}\"" for code in cols)
    order_of_col = "k.\"order\""
    return f"""
SELECT c.report_id, c.source_file, c.agency, c.year, c.template,
       r."order" AS row_order, c.row, r.label_zh AS row_label_zh, r.label_en AS row_label_en,
       {values},
       coalesce(string_agg(c.col || ': ' || c.status, '; ' ORDER BY {order_of_col})
                FILTER (WHERE c.status <> 'reported'), '') AS not_reported,
       CASE WHEN count(DISTINCT c.unit) > 1
            THEN string_agg(c.col || ': ' || c.unit, '; ' ORDER BY {order_of_col}) FILTER (WHERE c.unit IS NOT NULL)
            ELSE any_value(c.unit) END AS unit
FROM cells c
JOIN report_copies p ON p.report_id = c.report_id AND p.source_file = c.source_file
LEFT JOIN labels r ON r.section = c.section AND r.axis = 'row' AND r.kind = 'code' AND r.code = c.row
LEFT JOIN labels k ON k.section = c.section AND k.axis = 'col' AND k.kind = 'code' AND k.code = c.col
WHERE c.section = {quote(section)} {"AND p.preferred" if preferred_only else ""}
GROUP BY ALL
ORDER BY c.year, c.agency, c.source_file, r."order\""""


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
