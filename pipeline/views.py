"""SQL of the DuckDB warehouse: views over the Parquet files, a labels table, and comments.

Column comments come from the pandera models (one description per column, kept in schemas.py).
"""

from __future__ import annotations

from pathlib import Path

from pipeline import domain, schemas


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _descriptions(model) -> dict[str, str]:
    out = {}
    for name, field in model.__fields__.items():
        info = field[1] if isinstance(field, tuple) else field
        description = getattr(info, "description", None)
        if description:
            out[name] = description
    return out


_SECTION_VIEWS = {
    "requests": ("收到和处理政府信息公开申请情况 (Table 3): one row per cell; applicant_type is the column",
                 "col AS applicant_type"),
    "proactive": ("主动公开政府信息情况 (Table 2): one row per cell", "col AS measure"),
    "appeals": ("行政复议、行政诉讼情况 (Table 4): row is review / litigation_direct / litigation_after_review",
                "col AS outcome"),
}


def statements(folder: Path) -> list[str]:
    folder = folder.resolve()
    sql = []
    for table, model, about in (
        ("facts", schemas.Facts, "one row per table cell of every report, with provenance"),
        ("reports", schemas.Reports, "one row per input file, with its status and the reason"),
        ("violations", schemas.Violations, "failed or not assessable sum rules (勾稽关系)"),
    ):
        path = folder / f"{table}.parquet"
        sql.append(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({_quote(str(path))})")
        sql.append(f"COMMENT ON VIEW {table} IS {_quote(about)}")
        for column, description in _descriptions(model).items():
            sql.append(f"COMMENT ON COLUMN {table}.{column} IS {_quote(description)}")

    rows = []
    for template in domain.TEMPLATES:
        for section in domain.SECTIONS:
            for order, row in enumerate(domain.layout(template, section), start=1):
                rows.append((section, "row", row.code, template, order))
                for col_order, col in enumerate(row.columns, start=1):
                    rows.append((section, "col", col.code, template, col_order))
    labels = domain.code_labels()
    values = []
    for section, axis, code, template, order in sorted(set(rows)):
        zh = labels.get((section, axis, code), "")
        values.append(f"({_quote(section)}, {_quote(axis)}, {_quote(code)}, {_quote(template)}, {order}, {_quote(zh)})")
    sql.append("CREATE OR REPLACE TABLE labels (section VARCHAR, axis VARCHAR, code VARCHAR, template VARCHAR, "
               "\"order\" INTEGER, label_zh VARCHAR)")
    sql.append("INSERT INTO labels VALUES " + ", ".join(values))
    sql.append("COMMENT ON TABLE labels IS 'codes of rows and columns with their Chinese labels and printed order'")

    for section, (about, col_alias) in _SECTION_VIEWS.items():
        sql.append(
            f"CREATE OR REPLACE VIEW {section} AS SELECT report_id, agency, year, template, row, {col_alias}, "
            f"value, status, unit, source_file, line, raw FROM facts WHERE section = {_quote(section)}"
        )
        sql.append(f"COMMENT ON VIEW {section} IS {_quote(about)}")
    return sql
