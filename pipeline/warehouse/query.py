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
    return con


def run(path: Path, sql: str) -> QueryResult:
    """Run one statement read-only; duckdb.Error propagates with DuckDB's own message."""
    con = connect(path)
    try:
        relation = con.sql(sql)
        if relation is None:  # a statement without a result (SET, PRAGMA ...)
            return QueryResult([], [], [])
        return QueryResult(list(relation.columns), [str(t) for t in relation.types], relation.fetchall())
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


def rich_table(result: QueryResult) -> Table:
    table = Table(show_lines=False, header_style="bold")
    numeric = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "SMALLINT", "HUGEINT")
    for name, kind in zip(result.columns, result.types):
        table.add_column(name, justify="right" if kind.upper().startswith(numeric) else "left",
                         overflow="fold")
    for row in result.rows:
        table.add_row(*(display_value(v) for v in row))
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
