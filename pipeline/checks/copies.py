"""Copies of one report: the same agency and year given as several files (the published PDF, the web
page, a crawler's text dump ...). One definition of which copy is preferred, used by the cross-year
rules at build time and stored in ``reports.parquet`` (``preferred``, ``copies``) for every view.

Order (``data/formats.csv`` ranks the formats): a parsed copy before a partial one, then the original
published form (PDF, Word, web page before text dumps), then the fewest ambiguous cells, then the
fewest failed within-report rules, then the file name. Rejected files are nobody's copy.
"""

from __future__ import annotations

import polars as pl

from pipeline.knowledge import domain

UNRANKED_FORMAT = 99


def agency_key(column: str = "agency") -> pl.Expr:
    """Agencies compare across files and years by name without spaces and without a trailing
    人民政府 / 管委会 (the contract lets a government be named by its place)."""
    government = "(?:" + "|".join(domain.agency_suffixes("government")) + ")$"  # agency_suffixes.csv
    return pl.col(column).str.replace_all(r"\s+", "").str.replace(government, "")


def format_rank() -> pl.Expr:
    ranks = {r["format"]: int(r["copy_rank"]) for r in domain.read_table("formats.csv")}
    return pl.col("format").replace_strict(ranks, default=UNRANKED_FORMAT, return_dtype=pl.Int32)


def preferred_copies(reports: pl.DataFrame) -> pl.DataFrame:
    """``reports`` with ``copies`` (files giving the same agency and year) and ``preferred`` (the copy
    used for this agency and year). ``n_violations`` must count the within-report rules only."""
    readable = pl.col("status") != "rejected"
    known = readable & pl.col("agency").is_not_null() & pl.col("year").is_not_null()
    group = pl.when(known).then(pl.concat_str([agency_key(), pl.col("year").cast(pl.String)], separator="|")) \
        .otherwise(pl.concat_str([pl.lit("file:"), pl.col("source_file")]))
    order = [pl.col("status") == "partial", format_rank(), pl.col("n_ambiguous"), pl.col("n_violations"),
             pl.col("source_file")]
    ranked = reports.with_columns(group.alias("_group")).with_columns(
        pl.when(readable).then(pl.len().over("_group")).otherwise(0).cast(pl.Int32).alias("copies"),
        (readable & (pl.struct(order).rank("ordinal").over("_group") == 1)).alias("preferred"),
    )
    return ranked.drop("_group")


def reports_from_facts(facts: pl.DataFrame) -> pl.DataFrame:
    """A stand-in for reports.parquet when only facts are at hand (rules run on a facts frame)."""
    return (facts.filter(pl.col("status") != "derived")
            .group_by("report_id", "source_file", "agency", "year", maintain_order=True)
            .agg((pl.col("status") == "ambiguous").sum().cast(pl.Int32).alias("n_ambiguous"))
            .with_columns(pl.lit("parsed").alias("status"), pl.lit(None, dtype=pl.String).alias("format"),
                          pl.lit(0, dtype=pl.Int32).alias("n_violations")))
