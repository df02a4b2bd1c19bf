"""The reviewer's checks across an agency's years: prose reused from the year before (S) and counts
that jump from one year to the next (Y). Each report contributes a small row at read time
(:func:`operands`); the build checks them one agency bucket at a time, between the preferred copies of
consecutive years, like the cross-year sum rules.
"""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from pipeline.checks.copies import agency_key
from pipeline.checks.review import sentences
from pipeline.extract.facts import usable_values
from pipeline.ingest.normalize import without_spaces
from pipeline.knowledge import domain, labels, schemas

_DIGITS = re.compile(r"\d+")
_TITLE = domain.pattern("title")
_SENTENCE_PUNCTUATION = domain.pattern("sentence_punctuation")
_TITLE_LINE, _HEADING_LINE = 60, 20  # characters


def summary_totals(facts) -> dict[str, float | None]:
    """report_summary's counts for one report (null when a term is not read), from its facts."""
    sections = _summary_sections()
    values = usable_values([f for f in facts if f.section in sections])
    out = {}
    for column in labels.summary_columns():
        terms = [values.get((column.section, row, column.col)) for row in column.rows]
        out[column.column] = sum(terms) if terms and all(t is not None for t in terms) else None
    return out


@cache
def _summary_sections() -> frozenset[str]:
    return frozenset(c.section for c in labels.summary_columns())


def _structure(line) -> bool:
    """A title or a heading line: the same every year by design, not reused prose."""
    text = without_spaces(line.text)
    return bool(_TITLE.search(text) and len(text) <= _TITLE_LINE) or (
        len(text) <= _HEADING_LINE and not _SENTENCE_PUNCTUATION.search(text))


def compared_sentences(prose) -> list[str]:
    """The prose's sentences that say something of this report: titles, headings and boilerplate left
    out, numbers masked (a sentence repeated with this year's numbers is still repeated)."""
    boilerplate = domain.boilerplate()
    shortest = domain.threshold("reuse_min_chars")
    kept = [line for line in prose if not _structure(line)]
    return [_DIGITS.sub("#", s) for _, s in sentences(kept) if len(s) >= shortest and not boilerplate.search(s)]


def operands(report: dict, prose, facts) -> dict:
    return {"report_id": report["report_id"], "agency": report["agency"], "year": report["year"],
            "sentences": compared_sentences(prose), **summary_totals(facts)}


def operands_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {"report_id": pl.String, "agency": pl.String, "year": pl.Int16, "sentences": pl.List(pl.String),
              **{c.column: pl.Float64 for c in labels.summary_columns()}}
    frame = pl.DataFrame({name: [row[name] for row in rows] for name in schema}, schema=schema)
    return frame.with_columns(agency_key().alias("agency_key")).filter(
        pl.col("agency_key").is_not_null() & pl.col("year").is_not_null())


def _pairs(frame: pl.DataFrame, preferred: pl.Series) -> pl.DataFrame:
    chosen = frame.filter(pl.col("report_id").is_in(preferred.implode()))
    previous = chosen.with_columns(pl.col("year") + 1).rename(
        {c: f"{c}@-1" for c in chosen.columns if c not in ("agency_key", "year")})
    # in the order of the earlier years' reports (what the join gave unasked, now asked for): the build
    # checks several agency buckets at once and splits the findings by bucket, which must give each
    # bucket's rows as checking it alone does
    return chosen.join(previous, on=["agency_key", "year"], how="inner", maintain_order="right")


def reuse(pairs: pl.DataFrame) -> tuple[pl.DataFrame, list[dict]]:
    """The share of each report's prose repeated from the year before, and the findings above the limit."""
    rule = domain.rules_of("reuse")[0]
    limit = domain.threshold("reuse_share")
    rows, findings = [], []
    for pair in pairs.select("report_id", "report_id@-1", "sentences", "sentences@-1").iter_rows(named=True):
        current, before = pair["sentences"] or [], set(pair["sentences@-1"] or [])
        total = sum(len(s) for s in current)
        repeated = [s for s in current if s in before]
        share = sum(len(s) for s in repeated) / total if total else None
        rows.append({"report_id": pair["report_id"], "previous_report_id": pair["report_id@-1"],
                     "reuse_share": share, "n_sentences": len(current), "repeated": repeated})
        if share is not None and share > limit:
            findings.append({"report_id": pair["report_id"], "rule": rule.rule, "severity": rule.severity,
                             "outcome": "failed", "section": None, "row": None, "col": None, "expected": limit,
                             "actual": round(share, 4), "cells": None,
                             "message": f"{share:.0%} of the prose ({len(repeated)} of {len(current)} sentences) "
                                        f"repeats the report of the year before (more than {limit:.0%})"})
    return pl.DataFrame(rows, schema=schemas.REUSE_SCHEMA), findings


def year_on_year(pairs: pl.DataFrame) -> list[dict]:
    """Counts that change from the year before by more than the factor (thresholds.csv)."""
    rule = domain.rules_of("year_on_year")[0]
    factor, least = domain.threshold("yoy_factor"), domain.threshold("yoy_min")
    findings = []
    for column in labels.summary_columns():
        for pair in pairs.select("report_id", column.column, f"{column.column}@-1").iter_rows():
            report_id, now, before = pair
            if now is None or before is None or (now == 0 and before == 0) or max(now, before) < least:
                continue
            if min(now, before) == 0 or max(now, before) / min(now, before) > factor:
                findings.append({
                    "report_id": report_id, "rule": rule.rule, "severity": rule.severity, "outcome": "failed",
                    "section": column.section, "row": column.rows[0] if len(column.rows) == 1 else None,
                    "col": column.col, "expected": before, "actual": now, "cells": column.column,
                    "message": f"{column.column} ({column.label_zh}) went from {before:g} to {now:g} in a year "
                               f"(more than ×{factor:g}, at least {least:g} on one side)"})
    return findings


def check_bucket(frame: pl.DataFrame, preferred: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Findings (violations) and reuse shares of one agency bucket."""
    pairs = _pairs(frame, preferred)
    if pairs.is_empty():
        return schemas.violations_frame([]), pl.DataFrame(schema=schemas.REUSE_SCHEMA)
    shares, reused = reuse(pairs)
    return schemas.violations_frame(reused + year_on_year(pairs)), shares
