"""Sum rules (勾稽关系), plausibility and cross-year rules, as frame operations over all reports.

Every rule is a row of ``data/rules.csv``: ``Σ lhs op Σ rhs`` over the codes of one axis, checked for
every value of the other axis. Within-report rules compare cells of one report; cross-year rules
compare a report with the same agency's report of the year before (terms marked ``@-1``). A rule whose
operands are not all read (blank, ambiguous, or missing) is ``not_assessable``, never passed.

The facts are pivoted once per (section, term axis) so each rule is a few column expressions,
whatever the number of reports.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from pipeline.checks import copies
from pipeline.checks.copies import agency_key
from pipeline.knowledge import domain, schemas
from pipeline.knowledge.domain import SumRule, Term

USABLE = domain.USABLE_STATUSES
TOLERANCE = 1e-6
OUTCOMES = ("passed", "failed", "not_assessable")


def _operands(facts: pl.DataFrame) -> pl.DataFrame:
    """One value per cell: the printed fact, or a derived one when nothing was printed (2021 (六))."""
    # a derived row shares its key only with a printed one (money converted to 万元): drop it there
    shared_key = pl.struct("report_id", "section", "row", "col").is_duplicated()
    return (facts.filter(~(shared_key & (pl.col("status") == "derived")))
            .with_columns(agency_key().alias("agency_key")))


def _name(kind: str, term: Term) -> str:
    return f"{kind}:{term.code}" + (f"@{term.year_offset}" if term.year_offset else "")


def _wide(cells: pl.DataFrame, section: str, term_axis: str) -> pl.DataFrame:
    key_axis = "col" if term_axis == "row" else "row"
    sub = cells.filter(pl.col("section") == section)
    if sub.is_empty():
        return pl.DataFrame()
    return sub.pivot(on=term_axis, index=["report_id", "agency_key", "year", "template", key_axis],
                     values=["value", "status", "line"], separator=":")


def _with_previous_year(wide: pl.DataFrame, key_axis: str, terms: tuple[Term, ...]) -> pl.DataFrame:
    previous_codes = {t.code for t in terms if t.year_offset == -1}
    rename = {}
    for kind in ("value", "status", "line"):
        for code in previous_codes:
            if f"{kind}:{code}" in wide.columns:
                rename[f"{kind}:{code}"] = f"{kind}:{code}@-1"
    previous = (wide.select("agency_key", "year", "template", key_axis, "report_id", *rename)
                .rename({**rename, "template": "template@-1", "report_id": "report_id@-1"})
                .with_columns(pl.col("year") + 1))
    return wide.join(previous, on=["agency_key", "year", key_axis], how="inner")


def _with_files(wide: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """The files of both years' reports, so that a cross-year finding names them."""
    if "source_file" not in cells.columns or wide.is_empty():
        return wide
    files = cells.select("report_id", "source_file").unique()
    return (wide.join(files, on="report_id", how="left")
            .join(files.rename({"report_id": "report_id@-1", "source_file": "source_file@-1"}), on="report_id@-1",
                  how="left"))


def _column(frame: pl.DataFrame, name: str, dtype) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=dtype)


class _Terms:
    """Column expressions for the terms of one rule over a wide frame (one row per instance)."""

    def __init__(self, frame: pl.DataFrame, rule: SumRule):
        self.frame, self.rule = frame, rule
        self.term_axis, self.key_axis = ("row", "col") if rule.axis == "col" else ("col", "row")

    def value(self, t: Term) -> pl.Expr:
        return _column(self.frame, _name("value", t), pl.Float64)

    def usable(self, t: Term) -> pl.Expr:
        status = _column(self.frame, _name("status", t), pl.String)
        return (status.is_in(USABLE) & self.value(t).is_not_null()).fill_null(False)

    def describe(self, t: Term) -> pl.Expr:
        where = f"{t.code}/" if self.term_axis == "row" else ""
        after = "" if self.term_axis == "row" else f"/{t.code}"
        year = "" if not t.year_offset else f" ({t.year_offset:+d} year)"
        line = _column(self.frame, _name("line", t), pl.Int32).cast(pl.String).fill_null("-")
        parts = [pl.lit(where), pl.col(self.key_axis), pl.lit(after + year + "@"), line]
        if self.rule.scope == "cross_year":  # two reports: say which file each cell is in
            file = _column(self.frame, "source_file@-1" if t.year_offset else "source_file", pl.String)
            parts += [pl.lit(" in "), file.fill_null("?")]
        return pl.concat_str(parts)

    def total(self, terms: tuple[Term, ...]) -> pl.Expr:
        return pl.sum_horizontal([self.value(t).fill_null(0) * t.sign for t in terms])

    def unread(self) -> pl.Expr:
        return pl.concat_str(
            [pl.when(~self.usable(t)).then(pl.lit(t.code + ("@-1" if t.year_offset else ""))) for t in self.rule.terms],
            separator=", ", ignore_nulls=True)


def _rule_frame(wide: pl.DataFrame, rule: SumRule) -> pl.DataFrame:
    """The instances a rule applies to: its template (both years' for cross-year rules) and keys."""
    key_axis = "row" if rule.axis == "row" else "col"
    frame = wide
    if rule.template != "both":
        frame = frame.filter(pl.col("template") == rule.template)
        if rule.scope == "cross_year" and "template@-1" in frame.columns:
            frame = frame.filter(pl.col("template@-1") == rule.template)
    if rule.keys:
        frame = frame.filter(pl.col(key_axis).is_in(rule.keys))
    return frame


def _check_rule(wide: pl.DataFrame, rule: SumRule, keep_passed: bool = False) -> tuple[pl.DataFrame, int]:
    """The rule's failed and not assessable instances (every instance with ``keep_passed``, with the
    previous year's report for cross-year rules), and how many instances were checked."""
    empty = _empty_instances() if keep_passed else schemas.violations_frame([])
    frame = _rule_frame(wide, rule)
    if frame.is_empty():
        return empty, 0
    terms = _Terms(frame, rule)
    actual, expected = terms.total(rule.lhs), terms.total(rule.rhs)
    holds = ((actual - expected).abs() <= TOLERANCE) if rule.op == "=" else (actual <= expected + TOLERANCE)
    out = frame.with_columns(
        pl.all_horizontal([terms.usable(t) for t in rule.terms]).alias("_assessable"), holds.alias("_holds"),
        actual.alias("actual"), expected.alias("expected"),
    )
    if not keep_passed:
        out = out.filter(~pl.col("_assessable") | ~pl.col("_holds"))
    if out.is_empty():
        return empty, frame.height
    # the texts only for the instances kept (most of a batch's hold, and are dropped)
    out = out.with_columns(terms.unread().alias("_unread"),
                           pl.concat_str([terms.describe(t) for t in rule.terms], separator=", ").alias("cells"))
    out = _outcomes(out, rule, terms)
    if keep_passed:
        out = out.with_columns(pl.col("report_id@-1").alias("previous_report_id"), pl.col(terms.key_axis).alias("key"),
                               pl.when("_assessable").then(actual).alias("actual"),
                               pl.when("_assessable").then(expected).alias("expected"))
        return out.select(list(schemas.CROSS_YEAR_SCHEMA)).cast(schemas.CROSS_YEAR_SCHEMA), frame.height
    return out.select(list(schemas.VIOLATION_SCHEMA)).cast(schemas.VIOLATION_SCHEMA), frame.height


def _outcomes(out: pl.DataFrame, rule: SumRule, terms: _Terms) -> pl.DataFrame:
    """Outcome, the fixed term's code, expected / actual (when failed) and the message per instance."""
    template = rule.message.replace("{key}", "{}")
    key = pl.col(terms.key_axis)
    failed = pl.col("_assessable") & ~pl.col("_holds")
    return out.with_columns(
        pl.lit(rule.rule).alias("rule"),
        pl.lit(rule.severity).alias("severity"),
        pl.when(~pl.col("_assessable")).then(pl.lit("not_assessable"))
        .when(failed).then(pl.lit("failed")).otherwise(pl.lit("passed")).alias("outcome"),
        pl.lit(rule.section).alias("section"),
        pl.lit(rule.lhs[0].code if len(rule.lhs) == 1 else None, dtype=pl.String).alias(terms.term_axis),
        pl.when(failed).then(pl.col("expected")).alias("expected"),
        pl.when(failed).then(pl.col("actual")).alias("actual"),
        pl.when(failed).then(pl.format(template + ": expected {}, found {}", key, pl.col("expected"), pl.col("actual")))
        .when(pl.col("_assessable")).then(pl.format(template + ": holds ({})", key, pl.col("actual")))
        .otherwise(pl.format(template + ": not assessable, {} not read", key, pl.col("_unread")))
        .alias("message"),
    )


def _empty_instances() -> pl.DataFrame:
    return schemas.cross_year_frame([])


def check(facts: pl.DataFrame) -> pl.DataFrame:
    """Every rule of rules.csv over every report (and every pair of consecutive years of an agency)."""
    return evaluate(facts)[0]


def _cross_year_codes() -> dict[str, set[str]]:
    """section -> the row and column codes that cross-year rules read."""
    codes: dict[str, set[str]] = {}
    for rule in domain.sum_rules():
        if rule.scope == "cross_year":
            codes.setdefault(rule.section, set()).update(t.code for t in rule.terms)
            codes[rule.section].update(rule.keys)
    return codes


def cross_year_operands(facts: pl.DataFrame) -> pl.DataFrame:
    """The few cells cross-year rules need (carried over / forward, Table 2 counts), kept small so a
    million reports' worth fits in memory until every batch has been read."""
    wanted = pl.lit(False)
    for section, codes in _cross_year_codes().items():
        wanted = wanted | ((pl.col("section") == section)
                           & (pl.col("row").is_in(list(codes)) | pl.col("col").is_in(list(codes))))
    cells = facts.filter(wanted)
    cells = _operands(cells) if "agency_key" not in cells.columns else cells
    return cells.select(
        "report_id", "source_file", "agency", "agency_key", "year", "template", "section", "row", "col", "value",
        "status", "line")


class Evaluation(NamedTuple):
    violations: pl.DataFrame  # failed and not assessable instances (violations.parquet)
    checked: pl.DataFrame  # per rule: rule, severity, instances checked
    cross_year: pl.DataFrame  # every instance of the cross-year rules, passed ones too (schemas.CROSS_YEAR_SCHEMA)


def evaluate(facts: pl.DataFrame, scope: str | None = None, preferred: pl.Series | None = None) -> Evaluation:
    """Every rule of ``scope`` ('report', 'cross_year' or both) over the facts.

    Cross-year rules compare one copy per agency and year: the report ids in ``preferred`` (the build
    passes those of :func:`pipeline.checks.copies.preferred_copies` over reports.parquet); without it the
    same choice is made from the facts alone.
    """
    cells = _operands(facts) if "agency_key" not in facts.columns else facts
    frames, instances = [], []
    checked = {}
    wides: dict[tuple[str, str], pl.DataFrame] = {}
    selected = [r for r in domain.sum_rules() if scope is None or r.scope == scope]
    for rule in selected:
        term_axis = "row" if rule.axis == "col" else "col"
        key = (rule.section, term_axis)
        if key not in wides:
            wides[key] = _wide(cells, *key)
        wide = wides[key]
        if wide.is_empty():
            checked.setdefault(rule.rule, 0)
            continue
        if rule.scope == "cross_year":
            if preferred is None:
                ranked = copies.preferred_copies(copies.reports_from_facts(cells))
                preferred = ranked.filter(pl.col("preferred"))["report_id"]
            key_axis = "col" if term_axis == "row" else "row"
            wide = _with_files(_with_previous_year(wide.filter(pl.col("report_id").is_in(preferred.implode())),
                                                   key_axis, rule.terms), cells)
            if wide.is_empty():
                checked.setdefault(rule.rule, 0)
                continue
            every, n = _check_rule(wide, rule, keep_passed=True)
            instances.append(every)
            found = every.filter(pl.col("outcome") != "passed").select(list(schemas.VIOLATION_SCHEMA))
        else:
            found, n = _check_rule(wide, rule)
        frames.append(found)
        checked[rule.rule] = checked.get(rule.rule, 0) + n
    summary = pl.DataFrame(
        [(r.rule, r.severity, checked.get(r.rule, 0)) for r in selected],
        schema={"rule": pl.String, "severity": pl.String, "checked": pl.Int64}, orient="row")
    order = ["report_id", "rule", "section", "row", "col"]
    frames = [f for f in frames if not f.is_empty()]
    violations = pl.concat(frames).sort(order, nulls_last=True) if frames else schemas.violations_frame([])
    instances = [f for f in instances if not f.is_empty()]
    every = pl.concat(instances).sort(order + ["key"], nulls_last=True) if instances else _empty_instances()
    return Evaluation(violations, summary, every)
