"""Ad hoc SQL on the warehouse (``ogi sql``): open it read-only, run one query, format the result.

Formatting returns strings or rich renderables; printing is the CLI's job.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.cells import cell_len
from rich.table import Table

WAREHOUSE_FILE = "ogi.duckdb"
NULL_TEXT = "NULL"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple]


def resolve_warehouse(path: Path) -> Path:
    """A dataset folder (its ogi.duckdb) or a .duckdb file; FileNotFoundError says what to do otherwise."""
    path = Path(path)
    candidate = path / WAREHOUSE_FILE if path.is_dir() else path
    if not candidate.is_file():
        raise FileNotFoundError(f"no warehouse at {candidate}: build a dataset first (make dataset, or "
                                f"ogi build REPORTS --out DIR) and point --db at DIR or DIR/{WAREHOUSE_FILE}")
    return candidate


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, its views reading the Parquet files beside it (wherever it is)."""
    from pipeline.warehouse import views

    warehouse = resolve_warehouse(path)
    con = duckdb.connect(str(warehouse), read_only=True)
    views.use_folder(con, warehouse.parent)
    # division by zero gives NULL, never inf or nan (100 * granted / received with nothing received)
    con.execute("SET ieee_floating_point_ops = false")
    con.execute("SET error_on_division_by_zero = false")
    return con


def run(path: Path, sql: str) -> QueryResult:
    """Run one statement read-only (the last result when several are given; see run_all)."""
    return run_all(path, sql)[-1]


def run_all(path: Path, sql: str) -> list[QueryResult]:
    """Run every statement of ``sql`` read-only, in order: one result each (an empty one for a
    statement without rows, SET or PRAGMA). duckdb.Error propagates with DuckDB's own message."""
    con = connect(path)
    try:
        results = []
        for statement in duckdb.extract_statements(sql) or [sql]:
            relation = con.sql(statement.query if hasattr(statement, "query") else statement)
            if relation is None:
                results.append(QueryResult([], [], []))
            else:
                results.append(QueryResult(list(relation.columns), [str(t) for t in relation.types],
                                           relation.fetchall()))
        return results
    finally:
        con.close()


def display_value(value) -> str:
    """How a value reads in a table: counts without '.0', NULL spelled out, floats without noise."""
    if value is None:
        return NULL_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return f"{value:.6f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    return str(value)


_NUMERIC = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "SMALLINT", "HUGEINT", "TINYINT", "UBIGINT")


def table_width(result: QueryResult) -> int:
    """Terminal cells a table of the result needs (CJK characters are two wide)."""
    widths = [max([cell_len(name)] + [cell_len(display_value(row[i])) for row in result.rows])
              for i, name in enumerate(result.columns)]
    return sum(widths) + 3 * len(widths) + 1


def rich_table(result: QueryResult, width: int | None = None) -> Table:
    """The result as a table; as one record after another (column | value) when it is wider than
    ``width``, so that no column shrinks to a letter."""
    if width is not None and result.columns and table_width(result) > width:
        return _vertical(result)
    table = Table(show_lines=False, header_style="bold")
    for name, kind in zip(result.columns, result.types):
        table.add_column(name, justify="right" if kind.upper().startswith(_NUMERIC) else "left",
                         overflow="fold")
    for row in result.rows:
        table.add_row(*(display_value(v) for v in row))
    return table


def _vertical(result: QueryResult) -> Table:
    table = Table(show_header=False, show_lines=False, box=None, pad_edge=False)
    table.add_column("column", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for number, row in enumerate(result.rows, start=1):
        table.add_row(f"-[ row {number} ]-", "")
        for name, value in zip(result.columns, row):
            table.add_row(name, display_value(value))
    return table


def to_csv(result: QueryResult) -> str:
    """RFC 4180 CSV with a header; NULL is an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def to_json(result: QueryResult) -> str:
    """A JSON array of objects, one per row; NULL is null."""
    records = [dict(zip(result.columns, row)) for row in result.rows]
    return json.dumps(records, ensure_ascii=False, indent=1, default=str)
