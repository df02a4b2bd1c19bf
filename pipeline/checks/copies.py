"""Copies of one report: the same agency and year given as several files (the published PDF, the web
page, a crawler's text dump ...). One definition of which copy is preferred, used by the cross-year
rules at build time and stored in ``reports.parquet`` (``preferred``, ``copies``) for every view.

Order (``data/formats.csv`` ranks the formats): a parsed copy before a partial one, then the original
published form (PDF, Word, web page before text dumps), then the fewest ambiguous cells, then the
fewest failed within-report rules, then the file name. Rejected files are nobody's copy.
"""

from __future__ import annotations

import polars as pl

from pipeline.knowledge import domain, schemas

UNRANKED_FORMAT = 99


def agency_key(column: str = "agency") -> pl.Expr:
    """Agencies compare across files and years by name without spaces and without a trailing
    人民政府 / 管委会 (the contract lets a government be named by its place)."""
    government = "(?:" + "|".join(domain.agency_suffixes("government")) + ")$"  # agency_suffixes.csv
    return pl.col(column).str.replace_all(r"\s+", "").str.replace(government, "")


def format_rank() -> pl.Expr:
    ranks = {r["format"]: int(r["copy_rank"]) for r in domain.read_table("formats.csv")}
    return pl.col("format").replace_strict(ranks, default=UNRANKED_FORMAT, return_dtype=pl.Int32)


def _copy_group() -> pl.Expr:
    """Files giving the same agency and year are copies of one report; a file without both is alone."""
    known = (pl.col("status") != "rejected") & pl.col("agency").is_not_null() & pl.col("year").is_not_null()
    return pl.when(known).then(pl.concat_str([agency_key(), pl.col("year").cast(pl.String)], separator="|")) \
        .otherwise(pl.concat_str([pl.lit("file:"), pl.col("source_file")]))


def _copy_rank() -> pl.Expr:
    """1 for the preferred copy of its group, 2 for the next ..."""
    order = [pl.col("status") == "partial", format_rank(), pl.col("n_ambiguous"), pl.col("n_violations"),
             pl.col("source_file")]
    return pl.struct(order).rank("ordinal").over("_group")


def preferred_copies(reports: pl.DataFrame) -> pl.DataFrame:
    """``reports`` with ``copies`` (files giving the same agency and year) and ``preferred`` (the copy
    used for this agency and year). ``n_violations`` must count the within-report rules only."""
    readable = pl.col("status") != "rejected"
    ranked = reports.with_columns(_copy_group().alias("_group")).with_columns(
        pl.when(readable).then(pl.len().over("_group")).otherwise(0).cast(pl.Int32).alias("copies"),
        (readable & (_copy_rank() == 1)).alias("preferred"),
    )
    return ranked.drop("_group")


def reports_from_facts(facts: pl.DataFrame) -> pl.DataFrame:
    """A stand-in for reports.parquet when only facts are at hand (rules run on a facts frame)."""
    return (facts.filter(pl.col("status") != "derived")
            .group_by("report_id", "source_file", "agency", "year", maintain_order=True)
            .agg((pl.col("status") == "ambiguous").sum().cast(pl.Int32).alias("n_ambiguous"))
            .with_columns(pl.lit("parsed").alias("status"), pl.lit(None, dtype=pl.String).alias("format"),
                          pl.lit(0, dtype=pl.Int32).alias("n_violations")))


# --- one reading per report from its copies --------------------------------------------------------------

READ = ("reported", "blank")  # statuses that say what the cell holds


def copies_to_merge(reports: pl.DataFrame) -> pl.DataFrame:
    """report_id, source_file, group, rank and the preferred copy's id and template, for the readable
    files of groups with more than one copy (``reports`` as preferred_copies returns it)."""
    readable = reports.filter((pl.col("status") != "rejected") & (pl.col("copies") > 1))
    ranked = readable.with_columns(_copy_group().alias("_group")).with_columns(_copy_rank().alias("rank"))
    first = ranked.filter(pl.col("rank") == 1).select(
        "_group", pl.col("report_id").alias("preferred_id"), pl.col("template").alias("preferred_template"),
        pl.col("agency").alias("preferred_agency"), pl.col("year").alias("preferred_year"))
    return ranked.join(first, on="_group").select(
        "report_id", "source_file", "template", "rank", "_group", "preferred_id", "preferred_template",
        "preferred_agency", "preferred_year")


def in_chunks(merging: pl.DataFrame, reports: int):
    """``merging`` (as copies_to_merge returns it) in parts of about ``reports`` files, a report's copies
    always in one part, parts in the order of their groups: the merge's memory is then bounded by the
    part, not by the dataset."""
    groups = merging.group_by("_group").len().sort("_group")  # the order merge_copies gives its rows
    part = ((groups["len"].cum_sum() - 1) // reports).alias("_part")
    labelled = merging.join(groups.select("_group", part), on="_group", maintain_order="left")
    chunks = labelled.partition_by("_part", maintain_order=True, include_key=False, as_dict=True)
    for key in sorted(chunks):
        yield chunks[key]


def merge_copies(facts: pl.DataFrame, copies: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One reading of each cell from the copies of a report (``facts`` of the files in ``copies``).

    A cell read by several copies alike is ``reported`` (or ``blank``) with the files in ``evidence``;
    copies that read it differently make it ``ambiguous`` with each copy's value in ``evidence``, and a
    finding of the copies rule (rules.csv, check ``copies``); a cell no copy reads is taken from the
    preferred copy as it is. Only copies of the preferred copy's template take part. Derived rows are
    derived again from the merged cells. Returns (merged facts, findings), both under the preferred
    copy's report_id.
    """
    if copies.is_empty():
        return schemas.facts_frame([]), schemas.violations_frame([])
    cells = (facts.filter(pl.col("status") != "derived")
             .join(copies, on=["report_id", "source_file"])
             .filter(pl.col("template") == pl.col("preferred_template"))
             .sort("_group", "section", "row", "col", "rank"))
    key = ["_group", "section", "row", "col"]
    reading = pl.when(pl.col("status") == "reported").then(pl.col("value").cast(pl.String)).otherwise(pl.lit("blank"))
    readers = cells.filter(pl.col("status").is_in(READ)).with_columns(reading.alias("_reading"))
    # groups in any order (they are joined to the preferred copy's cells below); rows keep their
    # order inside a group, so the files are listed by rank
    agreement = readers.group_by(key).agg(
        pl.col("_reading").n_unique().alias("_n_readings"), pl.len().alias("_n_readers"),
        pl.col("source_file").str.join(", ").alias("_files"))
    disputed = agreement.filter(pl.col("_n_readings") > 1).select(key)
    each = readers.join(disputed, on=key, how="semi").group_by(key).agg(
        (pl.col("source_file") + pl.lit(" = ") + pl.col("_reading")).str.join("; ").alias("_each"))
    agreement = agreement.join(each, on=key, how="left")
    best_reader = readers.unique(key, keep="first")
    preferred = cells.filter(pl.col("rank") == 1)
    merged = (preferred.select(key).join(agreement, on=key, how="left")
              .join(best_reader.drop("_reading"), on=key, how="left")
              .join(preferred, on=key, how="left", suffix="_preferred"))
    merged = _merged_cells(merged)
    findings = _disagreements(merged)
    printed = merged.select(schemas.FACT_COLUMNS)
    return pl.concat([printed, _derived_again(printed)]), findings


def _merged_cells(frame: pl.DataFrame) -> pl.DataFrame:
    agree = pl.col("_n_readings") == 1
    disagree = pl.col("_n_readings") > 1
    take_reader = agree.fill_null(False)
    out = {}
    for column in ("source_file", "template", "value", "status", "unit", "line", "raw", "evidence"):
        out[column] = pl.when(take_reader).then(pl.col(column)).otherwise(pl.col(f"{column}_preferred"))
    out["value"] = pl.when(disagree.fill_null(False)).then(None).otherwise(out["value"])
    out["status"] = pl.when(disagree.fill_null(False)).then(pl.lit("ambiguous")).otherwise(out["status"])
    for column in ("line", "raw", "unit"):
        out[column] = pl.when(disagree.fill_null(False)).then(None).otherwise(out[column])
    out["evidence"] = (
        pl.when(disagree.fill_null(False)).then(pl.lit("copies disagree: ") + pl.col("_each"))
        .when(take_reader & (pl.col("_n_readers") > 1))
        .then(pl.concat_str([pl.lit("read alike in "), pl.col("_n_readers").cast(pl.String), pl.lit(" copies: "),
                             pl.col("_files")]))
        .otherwise(out["evidence"]))
    return frame.with_columns(
        pl.col("preferred_id_preferred").alias("report_id"), pl.col("preferred_agency_preferred").alias("agency"),
        pl.col("preferred_year_preferred").alias("year"), *[expr.alias(name) for name, expr in out.items()],
        disagree.fill_null(False).alias("_disagree"))


def _disagreements(merged: pl.DataFrame) -> pl.DataFrame:
    rule = domain.rules_of("copies")[0]
    found = merged.filter(pl.col("_disagree"))
    if found.is_empty():
        return schemas.violations_frame([])
    return found.select(
        "report_id", pl.lit(rule.rule).alias("rule"), pl.lit(rule.severity).alias("severity"),
        pl.lit("failed").alias("outcome"), "section", "row", "col",
        pl.lit(None, dtype=pl.Float64).alias("expected"), pl.lit(None, dtype=pl.Float64).alias("actual"),
        pl.col("_each").alias("cells"),
        pl.concat_str([pl.col("row"), pl.lit("/"), pl.col("col"), pl.lit(": copies disagree: "), pl.col("_each")])
        .alias("message"),
    ).cast(schemas.VIOLATION_SCHEMA)


def _derived_again(printed: pl.DataFrame) -> pl.DataFrame:
    """Derived rows of the merged cells, by the same function that derives them for one file."""
    from pipeline.extract.facts import REPORT_FIELDS, FactCell, derived_facts

    width = len(REPORT_FIELDS)
    by_report: dict[str, list[tuple]] = {}  # report_id (REPORT_FIELDS[0]) -> its rows, in order
    for row in printed.select(*REPORT_FIELDS, *FactCell._fields).iter_rows():
        by_report.setdefault(row[0], []).append(row)
    return schemas.facts_frame([(dict(zip(REPORT_FIELDS, cells[0][:width])),
                                 derived_facts([FactCell(*cell[width:]) for cell in cells]))
                                for cells in by_report.values()])
