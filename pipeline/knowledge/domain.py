"""Domain knowledge, read from the tables in ``pipeline/knowledge/data``.

Everything the reader knows about the official templates (which cells exist, what the labels look
like, which sums must hold, what is site noise) lives in those CSV files; this module only loads them
into small immutable structures. Adding a label variant is a one-line change to ``labels.csv``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

TEMPLATES = ("2019", "2021")
SECTIONS = ("proactive", "requests", "appeals")
STATUSES = ("reported", "blank", "ambiguous", "derived")


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of one CSV table of ``pipeline/knowledge/data`` as dicts."""
    with resources.files("pipeline.knowledge.data").joinpath(name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True, slots=True)
class Column:
    code: str
    unit: str
    signed: bool  # may carry a + or - sign (本年增/减)
    money: bool  # may carry decimals (amounts)


@dataclass(frozen=True, slots=True)
class Row:
    code: str
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class Label:
    section: str
    kind: str  # anchor / row / group / header / cue
    code: str
    template: str  # '' = both
    regex: re.Pattern


@dataclass(frozen=True, slots=True)
class Term:
    sign: int  # +1 or -1
    code: str
    year_offset: int  # 0 = the report's year, -1 = the year before (cross-year rules)


@dataclass(frozen=True, slots=True)
class SumRule:
    """``Σ lhs op Σ rhs``, checked for every value of the free axis.

    axis ``col``: the terms are row codes and the rule is checked per column (R1, R3);
    axis ``row``: the terms are column codes, checked per row (R2, R4). ``keys`` limits the free axis.
    """

    rule: str
    severity: str
    section: str
    template: str  # '2019', '2021' or 'both'
    scope: str  # 'report' or 'cross_year'
    axis: str
    keys: tuple[str, ...]
    lhs: tuple[Term, ...]
    op: str  # '=' or '<='
    rhs: tuple[Term, ...]
    message: str

    @property
    def lhs_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.lhs)

    @property
    def rhs_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.rhs)

    @property
    def terms(self) -> tuple[Term, ...]:
        return self.lhs + self.rhs

    @property
    def is_identity(self) -> bool:
        """A within-report equality without signs: usable to decide ambiguous alignments."""
        return (self.scope == "report" and self.op == "=" and self.severity in ("official", "definitional")
                and all(t.sign == 1 and t.year_offset == 0 for t in self.terms))


_TERM = re.compile(r"([+-]?)([a-z_]+)(?:@(-?\d+))?")


def parse_terms(text: str) -> tuple[Term, ...]:
    return tuple(Term(-1 if sign == "-" else 1, code, int(offset or 0)) for sign, code, offset in _TERM.findall(text))


@dataclass(frozen=True, slots=True)
class DerivedSum:
    section: str
    row: str
    template: str
    terms: tuple[str, ...]
    unit: str


@cache
def layout(template: str, section: str) -> tuple[Row, ...]:
    """The data rows (in printed order) and their columns for one table of one template."""
    rows: dict[str, list[Column]] = {}
    for r in sorted(
        (r for r in read_table("layout.csv") if r["template"] == template and r["section"] == section),
        key=lambda r: (int(r["row_order"]), int(r["col_order"])),
    ):
        rows.setdefault(r["row"], []).append(
            Column(r["col"], r["unit"], r["signed"] == "1", r["money"] == "1")
        )
    return tuple(Row(code, tuple(cols)) for code, cols in rows.items())


@cache
def labels(section: str, kind: str, template: str | None = None) -> tuple[Label, ...]:
    out = []
    for r in read_table("labels.csv"):
        if r["section"] != section or r["kind"] != kind:
            continue
        if template is not None and r["template"] not in ("", template):
            continue
        out.append(Label(r["section"], r["kind"], r["code"], r["template"], re.compile(r["pattern"])))
    return tuple(out)


def label(section: str, kind: str, code: str, template: str | None = None) -> Label | None:
    for lab in labels(section, kind, template):
        if lab.code == code:
            return lab
    return None


@cache
def sum_rules() -> tuple[SumRule, ...]:
    return tuple(
        SumRule(
            r["rule"], r["severity"], r["section"], r["template"], r["scope"], r["axis"],
            tuple(r["keys"].split()), parse_terms(r["lhs"]), r["op"], parse_terms(r["rhs"]), r["message"],
        )
        for r in read_table("rules.csv")
    )


@cache
def derived_sums() -> tuple[DerivedSum, ...]:
    return tuple(
        DerivedSum(r["section"], r["row"], r["template"], tuple(r["terms"].split("+")), r["unit"])
        for r in read_table("derived.csv")
    )


@cache
def noise_patterns(kind: str) -> re.Pattern:
    pats = [r["pattern"] for r in read_table("noise.csv") if r["kind"] == kind]
    return re.compile("|".join(f"(?:{p})" for p in pats))


@cache
def valid_codes() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """section -> (row codes, column codes), exactly as listed in codes.csv."""
    rows: dict[str, set[str]] = {s: set() for s in SECTIONS}
    cols: dict[str, set[str]] = {s: set() for s in SECTIONS}
    for r in read_table("codes.csv"):
        if r["row"]:
            rows[r["section"]].add(r["row"])
        if r["column"]:
            cols[r["section"]].add(r["column"])
    return {s: (frozenset(rows[s]), frozenset(cols[s])) for s in SECTIONS}


@cache
def code_labels() -> dict[tuple[str, str, str], str]:
    """(section, 'row'|'col', code) -> Chinese label from codes.csv."""
    out = {}
    for r in read_table("codes.csv"):
        if r["row"]:
            out[(r["section"], "row", r["row"])] = r["label_zh"]
        if r["column"]:
            out[(r["section"], "col", r["column"])] = r["label_zh"]
    return out
