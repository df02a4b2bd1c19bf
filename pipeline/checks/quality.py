"""Quality summary of a built dataset: how each rule fared and which reports need attention."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.checks import rules

SEVERITY_ORDER = {"official": 0, "definitional": 1, "plausibility": 2, "cross_year": 3}


def load(dataset: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return (pl.read_parquet(dataset / "facts.parquet"), pl.read_parquet(dataset / "reports.parquet"),
            pl.read_parquet(dataset / "violations.parquet"))


def rule_summary(facts: pl.DataFrame, violations: pl.DataFrame, reports: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per rule: instances checked, failed, not assessable (reading findings such as P0 included).
    ``reports`` (with ``preferred``) names the copies the cross-year rules compared."""
    preferred = reports.filter(pl.col("preferred"))["report_id"] if reports is not None else None
    checked = rules.evaluate(facts, preferred=preferred).checked
    outcomes = violations.group_by("rule", "severity").agg(
        (pl.col("outcome") == "failed").sum().alias("failed"),
        (pl.col("outcome") == "not_assessable").sum().alias("not_assessable"),
    )
    summary = checked.join(outcomes, on=["rule", "severity"], how="full", coalesce=True).with_columns(
        pl.col("failed").fill_null(0), pl.col("not_assessable").fill_null(0),
        pl.max_horizontal(pl.col("checked").fill_null(0), pl.col("failed") + pl.col("not_assessable")).alias("checked"),
    )
    summary = summary.with_columns(
        (pl.col("checked") - pl.col("failed") - pl.col("not_assessable")).alias("passed"),
        pl.col("severity").replace_strict(SEVERITY_ORDER, default=9).alias("_order"),
    )
    return summary.sort("_order", "rule").select("rule", "severity", "checked", "passed", "failed", "not_assessable")


def worst_reports(reports: pl.DataFrame, violations: pl.DataFrame, limit: int = 10) -> pl.DataFrame:
    failed = violations.filter(pl.col("outcome") == "failed")
    per_report = failed.group_by("report_id").agg(
        (pl.col("severity") == "official").sum().alias("official"),
        (pl.col("severity") == "definitional").sum().alias("definitional"),
        (pl.col("severity").is_in(["plausibility", "cross_year"])).sum().alias("other_rules"),
    )
    return (
        reports.join(per_report, on="report_id", how="left")
        .with_columns(pl.col("official", "definitional", "other_rules").fill_null(0))
        .with_columns((pl.col("status") != "parsed").alias("_not_parsed"))
        .sort(["official", "definitional", "_not_parsed", "n_ambiguous", "other_rules"], descending=True)
        .filter((pl.col("official") + pl.col("definitional") + pl.col("other_rules") + pl.col("n_ambiguous") > 0)
                | pl.col("_not_parsed"))
        .head(limit)
        .select("source_file", "agency", "year", "status", "official", "definitional", "other_rules", "n_ambiguous",
                "reason")
    )


REVIEW_FAMILIES = ("completeness", "prose", "deadline", "reuse", "year_on_year", "copies")


def reviewer_findings(report_quality: pl.DataFrame, limit: int = 10) -> pl.DataFrame:
    """Reports with a failed reviewer's check (report_quality), most families failed first, with the
    first finding of each failed family."""
    failed = pl.sum_horizontal([(pl.col(f) == "failed").cast(pl.Int32) for f in REVIEW_FAMILIES])
    details = pl.concat_str([pl.when(pl.col(f) == "failed").then(pl.lit(f"{f}: ") + pl.col(f"{f}_details")
                                                                 .str.split(" | ").list.first())
                             for f in REVIEW_FAMILIES], separator="; ", ignore_nulls=True)
    return (report_quality.with_columns(failed.alias("families_failed"), details.alias("findings"))
            .filter(pl.col("families_failed") > 0)
            .sort(["families_failed", "year", "source_file"], descending=[True, False, False])
            .head(limit)
            .select("source_file", "agency", "year", *REVIEW_FAMILIES, "findings"))
