"""Sum rules (勾稽关系) as frame operations over all reports at once.

Each rule in ``data/rules.csv`` is ``Σ lhs = Σ rhs`` over codes of one axis, checked for every value
of the other axis: axis ``col`` means the terms are rows and the rule is checked per column (R1, R3);
axis ``row`` means the terms are columns, checked per row (R2, R4). A rule instance whose operands are
not all read (blank, ambiguous, or missing) is ``not_assessable``, never passed.
"""

from __future__ import annotations

import polars as pl

from pipeline import domain, schemas
from pipeline.domain import SumRule

_USABLE = ("reported", "derived")


def _operands(facts: pl.DataFrame) -> pl.DataFrame:
    """One value per cell: the printed fact, or a derived one when nothing was printed (2021 (六))."""
    return (
        facts.with_columns((pl.col("status") == "derived").alias("_is_derived"))
        .sort(["report_id", "section", "row", "col", "_is_derived"])
        .unique(["report_id", "section", "row", "col"], keep="first", maintain_order=True)
        .drop("_is_derived")
    )


def _check_rule(cells: pl.DataFrame, rule: SumRule) -> pl.DataFrame:
    term_axis, key_axis = ("row", "col") if rule.axis == "col" else ("col", "row")
    terms = rule.lhs + rule.rhs
    sub = cells.filter((pl.col("section") == rule.section) & pl.col(term_axis).is_in(terms))
    if rule.template != "both":
        sub = sub.filter(pl.col("template") == rule.template)
    if sub.is_empty():
        return schemas.violations_frame([])
    usable = pl.col("status").is_in(_USABLE)
    in_lhs = pl.col(term_axis).is_in(rule.lhs)
    described = pl.format("{}/{}@{}", pl.col("row"), pl.col("col"), pl.col("line").cast(pl.String).fill_null("-"))
    grouped = sub.group_by(["report_id", key_axis], maintain_order=True).agg(
        pl.col(term_axis).filter(usable).n_unique().alias("n_usable"),
        pl.col("value").filter(usable & in_lhs).sum().alias("actual"),
        pl.col("value").filter(usable & ~in_lhs).sum().alias("expected"),
        pl.col(term_axis).filter(usable).alias("read_terms"),
        described.alias("cells"),
    )
    assessable = pl.col("n_usable") == len(set(terms))
    failed = assessable & ((pl.col("actual") - pl.col("expected")).abs() > 1e-6)
    fixed_axis = rule.lhs[0] if len(rule.lhs) == 1 else None
    flagged = grouped.filter(failed | ~assessable)
    if flagged.is_empty():
        return schemas.violations_frame([])
    out = flagged.with_columns(
        pl.lit(sorted(set(terms)), dtype=pl.List(pl.String)).list.set_difference("read_terms").list.sort().alias("unread"),
    ).with_columns(
        pl.lit(rule.rule).alias("rule"),
        pl.lit(rule.severity).alias("severity"),
        pl.when(assessable).then(pl.lit("failed")).otherwise(pl.lit("not_assessable")).alias("outcome"),
        pl.lit(rule.section).alias("section"),
        pl.lit(fixed_axis, dtype=pl.String).alias(term_axis),
        pl.col("cells").list.join(", "),
        pl.when(assessable)
        .then(pl.format(rule.message.replace("{key}", "{}") + ": expected {}, found {}",
                        pl.col(key_axis), pl.col("expected"), pl.col("actual")))
        .otherwise(pl.format(rule.message.replace("{key}", "{}") + ": not assessable, {} not read",
                             pl.col(key_axis), pl.col("unread").list.join(", ")))
        .alias("message"),
    )
    out = out.with_columns(
        pl.when(pl.col("outcome") == "failed").then(pl.col("expected")).alias("expected"),
        pl.when(pl.col("outcome") == "failed").then(pl.col("actual")).alias("actual"),
    )
    return out.select(list(schemas.VIOLATION_SCHEMA)).cast(schemas.VIOLATION_SCHEMA)


def check(facts: pl.DataFrame) -> pl.DataFrame:
    cells = _operands(facts)
    frames = [_check_rule(cells, rule) for rule in domain.sum_rules()]
    frames = [f for f in frames if not f.is_empty()]
    if not frames:
        return schemas.violations_frame([])
    return pl.concat(frames).sort(["report_id", "rule", "section", "row", "col"], nulls_last=True)
