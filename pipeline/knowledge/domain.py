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

TEMPLATES = ("2019", "2021")  # in order: the last one is the template in force
LATEST_TEMPLATE = TEMPLATES[-1]
SECTIONS = ("proactive", "requests", "appeals")
STATUSES = ("reported", "blank", "ambiguous", "not_printed", "derived")
UNREAD_STATUSES = ("blank", "ambiguous", "not_printed")  # statuses whose value is null
USABLE_STATUSES = ("reported", "derived")  # statuses whose value can enter a sum


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
    """The rules of rules.csv that are sums (check ``sum``): R, P1–P4, X."""
    return tuple(
        SumRule(
            r["rule"], r["severity"], r["section"], r["template"], r["scope"], r["axis"],
            tuple(r["keys"].split()), parse_terms(r["lhs"]), r["op"], parse_terms(r["rhs"]), r["message"],
        )
        for r in read_table("rules.csv") if r["check"] == "sum"
    )


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule of rules.csv that is not a sum: found while reading, between copies, or by a reviewer's
    check (completeness, prose, deadline, reuse, year on year)."""

    rule: str
    check: str
    severity: str
    section: str | None
    scope: str
    message: str


@cache
def rules_of(check: str) -> tuple[RuleInfo, ...]:
    return tuple(RuleInfo(r["rule"], r["check"], r["severity"], r["section"] or None, r["scope"], r["message"])
                 for r in read_table("rules.csv") if r["check"] == check)


@cache
def severities() -> tuple[str, ...]:
    return tuple(dict.fromkeys(r["severity"] for r in read_table("rules.csv")))


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


# --- patterns, units, agency suffixes, messages ---------------------------------------------------------

_PLACEHOLDER = re.compile(r"<(\w+)>")


def _alternation(texts) -> str:
    return "|".join(re.escape(t) for t in texts)


@cache
def _pattern_texts() -> dict[str, str]:
    return {r["name"]: r["pattern"] for r in read_table("patterns.csv")}


def _expand(name: str, seen: tuple[str, ...] = ()) -> str:
    """A pattern of patterns.csv with its <name> placeholders filled: another pattern, the units of
    values.csv (<units>), or the agency suffixes with a flag set (<title_end>, <organisation> ...)."""
    if name in seen:
        raise ValueError(f"patterns.csv: {name} refers to itself")
    texts = _pattern_texts()

    def fill(m: re.Match) -> str:
        key = m.group(1)
        if key in texts:
            return _expand(key, seen + (name,))
        if key == "units":
            return _alternation(u.text for u in units())
        if key in agency_suffix_flags():
            return _alternation(agency_suffixes(key))
        raise ValueError(f"patterns.csv: {name} uses an unknown placeholder <{key}>")

    return _PLACEHOLDER.sub(fill, texts[name])


@cache
def pattern(name: str, flags: int = 0) -> re.Pattern:
    """A compiled pattern of ``patterns.csv`` (KeyError for an unknown name)."""
    return re.compile(_expand(name), flags)


@dataclass(frozen=True, slots=True)
class Unit:
    text: str  # as printed after a number: 万元, 元, 件 ...
    to_unit: str | None  # a unit a derived fact converts it to (元 -> 万元)
    divisor: float | None  # value in to_unit = value / divisor (values.csv, column number)


@cache
def units() -> tuple[Unit, ...]:
    return tuple(Unit(r["text"], r["to_unit"] or None, float(r["number"]) if r["number"] else None)
                 for r in read_table("values.csv") if r["kind"] == "unit")


@cache
def numerals() -> dict[str, int]:
    """Chinese numerals of dates (values.csv, kind numeral)."""
    return {r["text"]: int(r["number"]) for r in read_table("values.csv") if r["kind"] == "numeral"}


@cache
def agency_suffix_flags() -> tuple[str, ...]:
    header = read_table("agency_suffixes.csv")[0]
    return tuple(k for k in header if k not in ("suffix", "kind", "note"))


@cache
def agency_suffixes(flag: str | None = None) -> tuple[str, ...]:
    """Endings of agency names (agency_suffixes.csv), in file order, those with ``flag`` set."""
    return tuple(r["suffix"] for r in read_table("agency_suffixes.csv") if flag is None or r[flag] == "1")


@cache
def agency_suffix_kinds() -> dict[str, str]:
    return {r["suffix"]: r["kind"] for r in read_table("agency_suffixes.csv")}


@cache
def _messages() -> dict[str, str]:
    return {r["key"]: r["text"] for r in read_table("messages.csv")}


def message(key: str, **values) -> str:
    """A message of messages.csv with its {fields} filled."""
    return _messages()[key].format(**values)


@cache
def first_report_year(template: str) -> int:
    return next(int(r["first_report_year"]) for r in read_table("templates.csv") if r["template"] == template)


@cache
def template_document(template: str) -> str:
    return next(r["document"] for r in read_table("templates.csv") if r["template"] == template)


@cache
def section_table(section: str) -> dict[str, str]:
    """sections.csv row of a section: table (Table 2 ...), name_zh, title_zh, title_en."""
    return next(r for r in read_table("sections.csv") if r["section"] == section)


@cache
def signed_columns() -> frozenset[str]:
    """Columns that may be negative (本年增/减), from layout.csv."""
    return frozenset(c.code for t in TEMPLATES for s in SECTIONS for r in layout(t, s) for c in r.columns if c.signed)


@cache
def derived_row(section: str) -> DerivedSum | None:
    """The derived row of a section (2021 other_processing = its three sub-rows), if any."""
    return next((d for d in derived_sums() if d.section == section), None)


# --- the reviewer's checks ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    part: int
    name_zh: str
    regex: re.Pattern  # the heading's words, variants included


@cache
def parts() -> tuple[Part, ...]:
    """The six parts of a report (parts.csv)."""
    return tuple(Part(int(r["part"]), r["name_zh"], re.compile(r["pattern"])) for r in read_table("parts.csv"))


@dataclass(frozen=True, slots=True)
class ProseClaim:
    rule: str
    regex: re.Pattern  # group 1 is the number the prose states
    targets: tuple[tuple[tuple[str, str, str], ...], ...]  # alternatives, each a sum of (section, row, col)
    context: re.Pattern | None  # the sentence must also say this (reviews about information disclosure)


def _cells(term_sum: str) -> tuple[tuple[str, str, str], ...]:
    return tuple(tuple(term.strip().split("/")) for term in term_sum.split("+"))


@cache
def prose_claims() -> tuple[ProseClaim, ...]:
    """Phrases of the prose that state a table cell (prose_claims.csv), one line per pattern."""
    return tuple(ProseClaim(r["rule"], re.compile(r["pattern"]),
                            tuple(_cells(alternative) for alternative in r["target"].split("|")),
                            re.compile(r["context"]) if r["context"] else None)
                 for r in read_table("prose_claims.csv"))


@cache
def deadlines() -> dict[str, tuple[int, int]]:
    """Agency kind -> (month, day) of the year after the report's year (deadlines.csv)."""
    return {r["kind"]: (int(r["month"]), int(r["day"])) for r in read_table("deadlines.csv")}


@cache
def boilerplate() -> re.Pattern:
    """Sentences every report says (boilerplate.csv): left out when prose is compared across years."""
    return re.compile("|".join(f"(?:{r['pattern']})" for r in read_table("boilerplate.csv")))


@cache
def threshold(name: str) -> float:
    return float(next(r["value"] for r in read_table("thresholds.csv") if r["name"] == name))
