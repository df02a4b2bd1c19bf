"""Which cells a finding concerns, so that the audit page can show it on them."""

from __future__ import annotations

from functools import cache

from pipeline.knowledge import domain, labels


@cache
def _sum_rules() -> dict[str, domain.SumRule]:
    return {r.rule: r for r in domain.sum_rules()}


@cache
def _summary_columns() -> dict[str, labels.SummaryColumn]:
    return {c.column: c for c in labels.summary_columns()}


def _rows(section: str, row: str) -> tuple[str, ...]:
    return labels.group_members(section, row) or (row,)


def concerned_cells(finding: dict) -> list[tuple[str, str, str]]:
    """The (section, row, col) cells of this report that a violations row is about."""
    rule = _sum_rules().get(finding["rule"])
    section = finding["section"]
    if rule is not None:
        terms = [t.code for t in rule.terms if t.year_offset == 0]
        if rule.axis == "col" and finding["col"]:  # R1, R3, P1, P2, X1: the rows of one column
            return [(section, code, finding["col"]) for code in dict.fromkeys(terms)]
        if rule.axis == "row" and finding["row"]:  # R2, R4, P3, P4, X2, X3: the columns of one row
            return [(section, finding["row"], code) for code in dict.fromkeys(terms)]
        return []
    summary = _summary_columns().get(finding["cells"] or "")
    if summary is not None:  # Y: a summary column
        return [(summary.section, row, summary.col) for row in summary.rows]
    if section and finding["row"] and finding["col"]:  # T, M, P0: one cell or a group of rows
        return [(section, row, finding["col"]) for row in _rows(section, finding["row"])]
    return []
