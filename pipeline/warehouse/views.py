"""SQL of the DuckDB warehouse: views over the Parquet files, a labels table, and comments.

What each view and column means is written once, as pandera descriptions (``schemas.py`` for the
Parquet tables, ``view_schemas.py`` for the views); ``install`` turns them into ``COMMENT ON``
statements for the columns the views really have, so a column that a later build adds to ``facts``
reaches the section views (they select ``*``) and gets its comment from ``schemas.Facts``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipeline.knowledge import domain, labels, view_schemas
from pipeline.knowledge.view_schemas import SECTION_COLUMN_NAMES, USABLE_STATUSES

UNDOCUMENTED = "(undocumented: add a description in pipeline/knowledge/schemas.py or pipeline/knowledge/view_schemas.py)"

# Where a view's passed-through columns are described, after its own schema.
_PASSTHROUGH = {
    "cells": "facts", "report_cells": "facts", "requests": "facts", "proactive": "facts", "appeals": "facts",
    "report_copies": "reports", "report_summary": "reports", "report_summary_all": "reports",
}
_FACT_COLUMNS_SHOWN_FIRST = ("report_id", "source_file", "agency", "year", "template", "row")


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def in_list(values) -> str:
    """A SQL list of string literals."""
    return "(" + ", ".join(quote(v) for v in values) + ")"


def _parquet_views() -> list[str]:
    # relative names, found through file_search_path (see use_folder): the folder can move
    return [f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({quote(f'{table}.parquet')})"
            for table in view_schemas.parquet_models()]


def use_folder(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Resolve the views' Parquet files in ``folder``: needed on every connection (DuckDB does not
    keep the setting in the database file), and what lets a dataset folder be moved or copied."""
    con.execute(f"SET file_search_path = {quote(str(Path(folder).resolve()))}")


def _labels_table() -> list[str]:
    codes = labels.code_labels()
    rows = [(c.section, c.axis, "code", c.code, c.template, c.order, c.label_zh, c.label_en, c.group, c.note)
            for c in codes]
    for g in labels.groups():
        member_templates = {c.template for c in codes if (c.section, c.axis, c.group) == (g.section, g.axis, g.group)}
        template = member_templates.pop() if len(member_templates) == 1 else "both"
        rows.append((g.section, g.axis, "group", g.group, template, g.order, g.label_zh, g.label_en, g.parent, g.note))

    values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    return [
        "CREATE OR REPLACE TABLE labels (section VARCHAR, axis VARCHAR, kind VARCHAR, code VARCHAR, "
        "template VARCHAR, \"order\" INTEGER, label_zh VARCHAR, label_en VARCHAR, parent_group VARCHAR, note VARCHAR)",
        f"INSERT INTO labels VALUES {values}",
    ]


def _literal(value) -> str:
    return "NULL" if value is None else str(value) if isinstance(value, int) else quote(value)


def _rules_table() -> list[str]:
    rows = [(r["rule"], r["check"], r["severity"], r["section"] or None, r["scope"], r["message"])
            for r in domain.read_table("rules.csv")]
    values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    return ["CREATE OR REPLACE TABLE rules (rule VARCHAR, \"check\" VARCHAR, severity VARCHAR, section VARCHAR, "
            "scope VARCHAR, message VARCHAR)", f"INSERT INTO rules VALUES {values}"]


# The reviewer's families in report_quality, by the check column of rules.csv.
QUALITY_FAMILIES = {"sums": "sum", "completeness": "completeness", "prose": "prose", "deadline": "deadline",
                    "reuse": "reuse", "year_on_year": "year_on_year", "copies": "copies"}


def _report_quality() -> str:
    per_family = ",\n       ".join(
        f"""CASE WHEN count(*) FILTER (WHERE k."check" = {quote(check)} AND v.outcome = 'failed') > 0 THEN 'failed'
            WHEN count(*) FILTER (WHERE k."check" = {quote(check)}) > 0 THEN 'not_assessable'
            ELSE 'passed' END AS {family},
       count(*) FILTER (WHERE k."check" = {quote(check)} AND v.outcome = 'failed') AS {family}_failed,
       string_agg(v.message, ' | ' ORDER BY v.rule, v.section, v.row, v.col)
           FILTER (WHERE k."check" = {quote(check)}) AS {family}_details"""
        for family, check in QUALITY_FAMILIES.items())
    return f"""CREATE OR REPLACE VIEW report_quality AS
WITH families AS (
    SELECT r.report_id,
       {per_family}
    FROM reports r
    LEFT JOIN violations v ON v.report_id = r.report_id
    LEFT JOIN rules k ON k.rule = v.rule
    WHERE r.status <> 'rejected'
    GROUP BY r.report_id)
SELECT r.report_id, r.source_file, r.agency, r.year, r.status, r.preferred, r.kind, r.published, r.published_source,
       f.* EXCLUDE (report_id), u.reuse_share, u.previous_report_id
FROM reports r
JOIN families f ON f.report_id = r.report_id
LEFT JOIN prose_reuse u ON u.report_id = r.report_id
ORDER BY r.year, r.agency, r.source_file"""


def _report_copies() -> str:
    # the choice itself is made once, at build time (pipeline/copies.py), and stored in reports
    return """CREATE OR REPLACE VIEW report_copies AS
SELECT report_id, source_file, agency, year, status, n_ambiguous, n_violations,
       copies::BIGINT AS copies, preferred
FROM reports WHERE status <> 'rejected'"""


def _cells() -> str:
    return """CREATE OR REPLACE VIEW cells AS
SELECT * FROM facts
QUALIFY row_number() OVER (PARTITION BY report_id, source_file, section, row, col
                           ORDER BY status = 'derived') = 1"""


def _money_columns(section: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.code for t in domain.TEMPLATES for r in domain.layout(t, section)
                               for c in r.columns if c.money))


def _section_view(section: str) -> str:
    name = SECTION_COLUMN_NAMES[section]
    consumed = (*_FACT_COLUMNS_SHOWN_FIRST, "section", "col", "value", "status", "unit")
    money = _money_columns(section)
    # counts are integers; an amount keeps its decimals in its own column, in the unit printed
    values = "CAST(f.value AS BIGINT) AS value"
    if money:
        values = (f"CASE WHEN f.col NOT IN {in_list(money)} THEN CAST(f.value AS BIGINT) END AS value, "
                  f"CASE WHEN f.col IN {in_list(money)} THEN CAST(f.value AS DECIMAL(18, 4)) END AS amount")
    return f"""CREATE OR REPLACE VIEW {section} AS
SELECT f.report_id, f.source_file, f.agency, f.year, f.template, f.row, f.col AS {name},
       {values}, f.status, f.unit, coalesce(c.preferred, false) AS preferred,
       r."order" AS row_order, k."order" AS {name}_order,
       r.label_zh AS row_label_zh, r.label_en AS row_label_en, r.parent_group AS row_group,
       k.label_zh AS {name}_label_zh, k.label_en AS {name}_label_en,
       f.* EXCLUDE ({", ".join(consumed)})
FROM cells f
LEFT JOIN report_copies c ON c.report_id = f.report_id AND c.source_file = f.source_file
LEFT JOIN labels r ON r.section = f.section AND r.axis = 'row' AND r.kind = 'code' AND r.code = f.row
LEFT JOIN labels k ON k.section = f.section AND k.axis = 'col' AND k.kind = 'code' AND k.code = f.col
WHERE f.section = {quote(section)}"""


def _summary_expression(column: labels.SummaryColumn) -> str:
    where = f"section = {quote(column.section)} AND col = {quote(column.col)} AND row IN {in_list(column.rows)}"
    # NULL unless every term was read: a sum over unread cells would be a guess. Counts are integers.
    # count(*), not count(DISTINCT row): the cell views hold one row per report, section, row and col
    return (f"CASE WHEN count(*) FILTER (WHERE {where} AND status IN {in_list(USABLE_STATUSES)}) "
            f"= {len(set(column.rows))} THEN CAST(sum(value) FILTER (WHERE {where}) AS BIGINT) END AS {column.column}")


def _flag_expression(column: labels.SummaryColumn) -> str:
    """True when a rule comparing this total with its parts failed on one of its cells."""
    concerns = (f"v.rule IN {in_list(column.parts_rules)} AND v.section = {quote(column.section)} "
                f"AND (v.row IS NULL OR v.row IN {in_list(column.rows)}) "
                f"AND (v.col IS NULL OR v.col = {quote(column.col)})")
    return f"coalesce(bool_or({concerns}), false) AS {column.flag}"


def _summary_view(name: str, cells: str, keys: str, reports_filter: str) -> str:
    """report_summary(_all): sums of ``cells`` per report (``keys``), flags, quality counts."""
    columns = labels.summary_columns()
    sums = ",\n           ".join(_summary_expression(c) for c in columns)
    flags = ",\n           ".join(_flag_expression(c) for c in columns if c.parts_rules)
    outer_flags = ", ".join(f"coalesce(f.{c.flag}, false) AS {c.flag}" for c in columns if c.parts_rules)
    join = " AND ".join(f"s.{k} = r.{k}" for k in keys.split(", "))
    return f"""CREATE OR REPLACE VIEW {name} AS
WITH sums AS (
    SELECT {keys},
           {sums},
           count(*) FILTER (WHERE status <> 'derived')::INTEGER AS n_cells,
           count(*) FILTER (WHERE status = 'ambiguous')::INTEGER AS n_ambiguous
    FROM {cells} GROUP BY {keys}),
findings AS (
    SELECT v.report_id,
           {flags},
           count(*) FILTER (WHERE v.outcome = 'not_assessable' AND k."check" = 'sum') AS n_not_assessable,
           count(*) FILTER (WHERE v.outcome = 'failed' AND k."check" = 'copies') AS n_copy_conflicts
    FROM violations v JOIN rules k ON k.rule = v.rule GROUP BY v.report_id)
SELECT r.report_id, r.source_file, r.agency, r.year, r.template, r.status, r.copies::BIGINT AS copies, r.preferred,
       r.region_code, r.province, r.prefecture, r.county, r.level, r.kind, r.published,
       s.* EXCLUDE ({keys}, n_cells, n_ambiguous),
       {outer_flags},
       coalesce(s.n_cells, r.n_cells) AS n_cells, coalesce(s.n_ambiguous, r.n_ambiguous) AS n_ambiguous,
       r.n_violations, coalesce(f.n_not_assessable, 0) AS n_not_assessable,
       coalesce(f.n_copy_conflicts, 0) AS n_copy_conflicts, u.reuse_share
FROM reports r
LEFT JOIN sums s ON {join}
LEFT JOIN findings f ON f.report_id = r.report_id
LEFT JOIN prose_reuse u ON u.report_id = r.report_id
WHERE r.status <> 'rejected' {reports_filter}
ORDER BY r.year, r.agency, r.source_file"""


def _report_summary() -> list[str]:
    return [_summary_view("report_summary_all", "cells", "report_id, source_file", ""),
            _summary_view("report_summary", "report_cells", "report_id", "AND r.preferred")]


def _report_cells() -> str:
    # one reading per agency and year: the preferred file's cells, or the merge of its copies
    return """CREATE OR REPLACE VIEW report_cells AS
SELECT * FROM (
    SELECT f.* FROM facts f
    JOIN reports r ON r.report_id = f.report_id AND r.source_file = f.source_file
    WHERE r.preferred AND r.copies = 1
    UNION ALL BY NAME
    SELECT * FROM merged_copies)
QUALIFY row_number() OVER (PARTITION BY report_id, section, row, col ORDER BY status = 'derived') = 1"""


def _cross_year() -> str:
    return """CREATE OR REPLACE VIEW cross_year AS
SELECT p.agency, p.year, r.year AS next_year, x.col AS applicant_type,
       x.expected AS carried_forward, x.actual AS next_carried_over, x.actual - x.expected AS difference,
       CASE x.outcome WHEN 'passed' THEN 'consistent' WHEN 'failed' THEN 'inconsistent'
            ELSE 'not_assessable' END AS outcome,
       x.previous_report_id AS report_id, x.report_id AS next_report_id,
       p.source_file, r.source_file AS next_source_file
FROM cross_year_checks x
JOIN reports r ON r.report_id = x.report_id AND r.preferred
JOIN reports p ON p.report_id = x.previous_report_id AND p.preferred
LEFT JOIN labels k ON k.section = 'requests' AND k.axis = 'col' AND k.kind = 'code' AND k.code = x.col
WHERE x.rule = 'X1_carry_over'
ORDER BY p.agency, p.year, k."order", x.col"""


def statements() -> list[str]:
    """CREATE statements of every view and table, in dependency order (comments come in ``install``)."""
    sql = _parquet_views() + _labels_table() + _rules_table() + [_report_copies(), _cells(), _report_cells()]
    sql += [_section_view(section) for section in SECTION_COLUMN_NAMES]
    sql += _report_summary() + [_cross_year(), _report_quality()]
    return sql


def descriptions() -> dict[str, tuple[str, dict[str, str]]]:
    """name -> (what the view or table is, {column: description}) for everything in ogi.duckdb."""
    out = {}
    for name, model in view_schemas.parquet_models().items():
        schema = model.to_schema()
        out[name] = (view_schemas.PARQUET_DESCRIPTIONS[name], _column_descriptions(schema))
    for name, schema in view_schemas.warehouse().items():
        columns = {}
        source = _PASSTHROUGH.get(name)
        if source:
            columns |= out[source][1]
        columns |= _column_descriptions(schema)
        out[name] = (schema.description, columns)
    return out


def _column_descriptions(schema) -> dict[str, str]:
    return {name: column.description for name, column in schema.columns.items() if column.description}


def comment_statements(con: duckdb.DuckDBPyConnection) -> list[str]:
    """COMMENT ON every view, table and column that exists in the connection's warehouse."""
    sql = []
    for name, (about, columns) in descriptions().items():
        kind = "TABLE" if name in ("labels", "rules") else "VIEW"
        sql.append(f"COMMENT ON {kind} {name} IS {quote(about)}")
        present = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [name]).fetchall()]
        for column in present:
            sql.append(f"COMMENT ON COLUMN {name}.\"{column}\" IS {quote(columns.get(column, UNDOCUMENTED))}")
    return sql


def recipe(folder: Path) -> str:
    """A hash of everything ``install`` makes the database of: its statements, the descriptions its
    comments come from, the Parquet files' columns in ``folder`` and DuckDB's version."""
    files = [(path.name, pq.read_schema(path).to_string()) for path in sorted(Path(folder).glob("*.parquet"))]
    return hashlib.sha256(repr((duckdb.__version__, statements(), descriptions(), files)).encode()).hexdigest()[:24]


def install(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Create every view and table of the warehouse over the Parquet files in ``folder``, with comments."""
    use_folder(con, folder)
    con.execute("BEGIN TRANSACTION")  # one commit for the few hundred statements: half the time
    try:
        for statement in statements():
            con.execute(statement)
        for statement in comment_statements(con):
            con.execute(statement)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
