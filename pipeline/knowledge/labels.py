"""Labels of the codes for people: Chinese (codes.csv), English and parent groups (labels_en.csv,
label_groups.csv), and the columns of the wide report summary (summary.csv).

``codes.csv`` stays a verbatim copy of the spec; everything added for readers lives in the other files
so that a translation fix never touches the canonical codes. Loading checks that the files agree
(every code has an English label, every group exists) and raises ``ValueError`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pipeline.knowledge import domain

AXES = ("row", "col")


@dataclass(frozen=True, slots=True)
class CodeLabel:
    section: str
    axis: str  # 'row' or 'col'
    code: str
    template: str  # 'both', '2019' or '2021' (codes.csv)
    order: int  # 1-based position among the section's codes of this axis, as printed
    label_zh: str
    label_en: str
    group: str | None  # parent group (label_groups.csv), None at top level
    note: str


@dataclass(frozen=True, slots=True)
class GroupLabel:
    section: str
    axis: str
    group: str
    parent: str | None
    order: int  # the order of its first member
    label_zh: str
    label_en: str
    note: str


@dataclass(frozen=True, slots=True)
class SummaryColumn:
    column: str
    section: str
    rows: tuple[str, ...]  # row codes summed (groups already expanded to their member rows)
    col: str
    label_zh: str
    label_en: str
    definition: str  # the terms as written in summary.csv, e.g. 'denied' or 'litigation_direct+...'
    parts_rules: tuple[str, ...] = ()  # rules that compare this total with its parts (a failure flags it)

    @property
    def flag(self) -> str:
        return f"{self.column}_fails_parts"


@cache
def code_labels() -> tuple[CodeLabel, ...]:
    """Every row and column code of codes.csv, in printed order, with its English label and group."""
    english = {(r["section"], r["axis"], r["code"]): r for r in domain.read_table("labels_en.csv")}
    known_groups = {(g["section"], g["axis"], g["group"]) for g in domain.read_table("label_groups.csv")}
    out, seen, counters = [], set(), {}
    for r in domain.read_table("codes.csv"):
        axis = "row" if r["row"] else "col"
        code = r["row"] or r["column"]
        key = (r["section"], axis, code)
        if key not in english:
            raise ValueError(f"labels_en.csv has no English label for {key}")
        group = english[key]["group"] or None
        if group and (r["section"], axis, group) not in known_groups:
            raise ValueError(f"labels_en.csv: group {group!r} of {key} is not in label_groups.csv")
        counters[(r["section"], axis)] = counters.get((r["section"], axis), 0) + 1
        out.append(CodeLabel(r["section"], axis, code, r["template"], counters[(r["section"], axis)],
                             r["label_zh"], english[key]["label_en"], group, r["notes"]))
        seen.add(key)
    extra = set(english) - seen
    if extra:
        raise ValueError(f"labels_en.csv labels codes that codes.csv does not have: {sorted(extra)}")
    return tuple(out)


@cache
def groups() -> tuple[GroupLabel, ...]:
    codes = code_labels()
    rows = domain.read_table("label_groups.csv")
    children = {}
    for g in rows:
        if g["parent"]:
            children.setdefault((g["section"], g["axis"], g["parent"]), []).append(g["group"])

    def first_order(section: str, axis: str, group: str) -> int:
        orders = [c.order for c in codes if (c.section, c.axis, c.group) == (section, axis, group)]
        orders += [first_order(section, axis, child) for child in children.get((section, axis, group), [])]
        if not orders:
            raise ValueError(f"label_groups.csv: group {group!r} ({section}, {axis}) has no members")
        return min(orders)

    return tuple(
        GroupLabel(g["section"], g["axis"], g["group"], g["parent"] or None,
                   first_order(g["section"], g["axis"], g["group"]), g["label_zh"], g["label_en"], g["note"])
        for g in rows
    )


@cache
def group_members(section: str, group: str) -> tuple[str, ...]:
    """Row codes directly in a row group, in printed order (sub-groups are not expanded)."""
    return tuple(c.code for c in code_labels() if (c.section, c.axis, c.group) == (section, "row", group))


@cache
def summary_columns() -> tuple[SummaryColumn, ...]:
    """Columns of report_summary: each the sum of some rows in one column of one section."""
    row_groups = {g.group for g in groups() if g.axis == "row"}
    out = []
    for r in domain.read_table("summary.csv"):
        section = r["section"]
        valid_rows, valid_cols = domain.valid_codes()[section]
        rows: list[str] = []
        for term in r["terms"].split("+"):
            if term in valid_rows:
                rows.append(term)
            elif term in row_groups and group_members(section, term):
                rows.extend(group_members(section, term))
            else:
                raise ValueError(f"summary.csv: {term!r} is neither a {section} row nor a row group")
        if r["col"] not in valid_cols:
            raise ValueError(f"summary.csv: {r['col']!r} is not a {section} column")
        unknown = set(r["parts_rules"].split()) - {rule.rule for rule in domain.sum_rules()}
        if unknown:
            raise ValueError(f"summary.csv: {sorted(unknown)} are not sum rules of rules.csv")
        out.append(SummaryColumn(r["column"], section, tuple(rows), r["col"], r["label_zh"], r["label_en"],
                                 r["terms"], tuple(r["parts_rules"].split())))
    return tuple(out)


@cache
def _printed() -> dict[tuple[str, str, str, str], str]:
    return {(r["section"], r["kind"], r["code"], r["template"]): r["label"] for r in domain.read_table("printed_labels.csv")}


def printed_label(section: str, kind: str, code: str, template: str | None = None) -> str:
    """The label as the official template prints it (printed_labels.csv): kind row, col or header;
    a template-specific label before the one of both templates."""
    printed = _printed()
    return printed.get((section, kind, code, template or "")) or printed[(section, kind, code, "")]


def printed_codes(section: str, kind: str) -> tuple[str, ...]:
    """Codes with a printed label, in file order (each once)."""
    return tuple(dict.fromkeys(code for (s, k, code, _) in _printed() if (s, k) == (section, kind)))


def group(section: str, axis: str, name: str) -> GroupLabel:
    return next(g for g in groups() if (g.section, g.axis, g.group) == (section, axis, name))
