"""The data dictionary (docs/data_dictionary.md), generated from the pandera models and the labels.

The column lists and types are those of a real warehouse: the views are created over empty Parquet
files with the builder's own schemas, so the dictionary cannot list a column the views do not have.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import polars as pl

from pipeline.knowledge import labels, schemas, view_schemas
from pipeline.warehouse import views

DICTIONARY_PATH = Path("docs/data_dictionary.md")
_EMPTY_FRAMES = {"facts": schemas.facts_frame, "reports": schemas.reports_frame,
                 "violations": schemas.violations_frame, "cross_year_checks": schemas.cross_year_frame,
                 "merged_copies": schemas.facts_frame,
                 "prose_reuse": lambda rows: pl.DataFrame(schema=schemas.REUSE_SCHEMA)}


def _cell(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _warehouse_columns() -> dict[str, list[tuple[str, str]]]:
    """name -> [(column, DuckDB type)] of every view and table, from a warehouse over empty files."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, frame in _EMPTY_FRAMES.items():
            frame([]).write_parquet(folder / f"{name}.parquet")
        con = duckdb.connect()
        try:
            views.install(con, folder)
            rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                               "WHERE NOT internal ORDER BY table_name, column_index").fetchall()
        finally:
            con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def _pandera_columns(name: str) -> dict:
    models = view_schemas.parquet_models()
    schema = models[name].to_schema() if name in models else view_schemas.warehouse()[name]
    return schema.columns


def _checks(column) -> str:
    if column is None:
        return ""
    parts = ["nullable" if column.nullable else "not null"]
    for check in column.checks:
        stats = getattr(check, "statistics", None) or {}
        args = ", ".join(f"{k}={v!r}" for k, v in stats.items() if v is not None and not isinstance(v, bool))
        if args:
            parts.append(f"{check.name}({args})")
    return "; ".join(parts)


def _object_section(name: str, columns: list[tuple[str, str]], about: str, described: dict[str, str]) -> list[str]:
    pandera = _pandera_columns(name)
    rows = [[f"`{col}`", kind, _checks(pandera.get(col)), described.get(col, views.UNDOCUMENTED)]
            for col, kind in columns]
    return [f"### `{name}`", "", about, "", *_table(["column", "type", "constraints", "meaning"], rows), ""]


def _codes_section() -> list[str]:
    lines = ["## Codes", "",
             "Row and column codes of the three tables (`codes.csv`, the spec's canonical list), with their "
             "English labels and parent groups (`pipeline/knowledge/data/labels_en.csv`, `label_groups.csv`). The same "
             "rows are in the `labels` table of `ogi.duckdb`.", ""]
    titles = view_schemas.SECTION_TITLES
    for section in view_schemas.SECTION_COLUMN_NAMES:
        lines += [f"### {section}: {titles[section]}", ""]
        for axis, heading in (("row", "Rows (`row`)"),
                              ("col", f"Columns (`col`, `{view_schemas.SECTION_COLUMN_NAMES[section]}` in the view)")):
            codes = [c for c in labels.code_labels() if (c.section, c.axis) == (section, axis)]
            lines += [f"{heading}:", ""]
            lines += _table(["order", "code", "zh", "English", "group", "templates", "note"],
                            [[c.order, f"`{c.code}`", c.label_zh, c.label_en, c.group or "", c.template, c.note]
                             for c in codes])
            lines.append("")
        groups = [g for g in labels.groups() if g.section == section]
        if groups:
            lines += ["Groups (headers that carry no number of their own):", ""]
            lines += _table(["group", "axis", "parent", "zh", "English", "note"],
                            [[f"`{g.group}`", g.axis, g.parent or "", g.label_zh, g.label_en, g.note]
                             for g in groups])
            lines.append("")
    return lines


def _summary_section() -> list[str]:
    rows = [[f"`{s.column}`", s.label_zh, s.label_en, s.section,
             " + ".join(f"`{r}`" for r in s.rows), f"`{s.col}`"] for s in labels.summary_columns()]
    return ["## How report_summary is computed", "",
            "Each column is a sum over cells of one section, in one column (`pipeline/knowledge/data/summary.csv`; a "
            "group name stands for its member rows). It is null when any term is blank, ambiguous or "
            "missing.", "", *_table(["column", "zh", "English", "section", "rows summed", "column of"], rows), ""]


def render() -> str:
    """The whole dictionary as Markdown."""
    columns = _warehouse_columns()
    described = views.descriptions()
    lines = [
        "# Data dictionary", "",
        "<!-- Generated by `ogi dictionary` (pipeline/warehouse/dictionary.py) from pipeline/knowledge/schemas.py, "
        "pipeline/knowledge/view_schemas.py and pipeline/knowledge/data/*.csv. Do not edit: run `make dictionary`. -->", "",
        f"Cell status, everywhere: {view_schemas.STATUS_MEANINGS}", "",
        f"Comparability: {view_schemas.COMPARABILITY}", "",
        "## Parquet files", "",
    ]
    for name in view_schemas.parquet_models():
        about, cols = described[name]
        lines += _object_section(name, columns[name], about, cols)
    lines += ["## Views and tables in ogi.duckdb", "",
              "Every view and column below also carries its description as a DuckDB comment "
              "(`SELECT comment FROM duckdb_columns() WHERE table_name = 'requests'`).", ""]
    for name in view_schemas.warehouse():
        about, cols = described[name]
        lines += _object_section(name, columns[name], about, cols)
    lines += _summary_section()
    lines += _codes_section()
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path = DICTIONARY_PATH) -> bool:
    """Write the dictionary; True when the file changed."""
    text = render()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
