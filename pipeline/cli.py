"""Command line: ``ogi build INPUT... --out DIR``. Thin: it calls library functions and prints."""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from pipeline import build as build_mod
from pipeline.checks import quality
from pipeline.ingest.discover import discover_inputs
from pipeline.ingest.manifest import ManifestError, apply_manifest, read_manifest
from pipeline.warehouse import store

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build the dataset of Chinese government information disclosure annual reports.")
console = Console(stderr=True, soft_wrap=True)


def _error(message: str) -> None:
    """An error line on stderr: red, not wrapped, and never read as rich markup (paths have brackets)."""
    console.print(Text(message, style="red"))


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ogi {metadata.version('ogi-dataset')}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                               help="print the version and exit")] = False) -> None:
    """OGI dataset builder."""


@app.command()
def build(
    inputs: Annotated[list[Path], typer.Argument(help="report files or folders (searched recursively)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="dataset folder to write")] = Path("data/dataset"),
    strict: Annotated[bool, typer.Option(help="exit 1 when any report is not parsed")] = False,
    manifest: Annotated[Path | None, typer.Option(
        help="CSV with columns file,agency,year; its values override what is read from the text")] = None,
    max_mb: Annotated[float, typer.Option(help="reject files larger than this (MB)")] = 50,
    timeout: Annotated[float, typer.Option(help="seconds of reading per file before it is rejected")] = 60,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="worker processes (0: one per core)")] = 0,
    cache: Annotated[Path | None, typer.Option(
        help="folder of cached per-report results (default: .<out>.cache next to the output)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="read every file again, store nothing")] = False,
) -> None:
    """Read every report under INPUT and write facts, reports, violations (Parquet) and ogi.duckdb."""
    missing = [p for p in inputs if not p.exists()]
    if missing:
        _error(f"no such file or folder: {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    try:
        store.check_output(out, inputs)
    except store.OutputRefused as exc:
        _error(f"{exc}")
        raise typer.Exit(2) from None
    found = discover_inputs(inputs)
    sources, unmatched = found.sources, []
    if manifest is not None:
        try:
            sources, unmatched = apply_manifest(sources, read_manifest(manifest))
        except ManifestError as exc:
            _error(f"{exc}")
            raise typer.Exit(2) from None
        if unmatched:
            _warn(f"{len(unmatched)} manifest row(s) name no input file: {_first(unmatched)}")
    if cache is None and not no_cache:
        cache = out.absolute().parent / f".{out.absolute().name}.cache"
    show_bar = sys.stderr.isatty()
    with Progress(TextColumn("[bold]reading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=not show_bar) as progress:
        task = progress.add_task("", total=len(sources))
        summary = build_mod.run_build(
            sources, out, limits=build_mod.Limits(max_bytes=int(max_mb * 2**20), seconds=timeout),
            jobs=jobs or os.cpu_count() or 1, cache_folder=None if no_cache else cache,
            on_progress=lambda n: progress.update(task, advance=n),
            record={"hidden_entries_left_out": found.hidden, "manifest_rows_without_file": unmatched,
                    "inputs": [str(p.absolute()) for p in inputs]})
    counts = _print_build_summary(summary, len(sources), out)
    if found.hidden:
        _warn(f"{len(found.hidden)} hidden entr{'y' if len(found.hidden) == 1 else 'ies'} (name starting with '.') "
              f"left out: {_first(found.hidden, 5)}")
    if strict and (counts["partial"] or counts["rejected"]):
        _error(f"--strict: {counts['partial'] + counts['rejected']} file(s) not parsed (listed above)")
        raise typer.Exit(1)


def _print_build_summary(summary, n_files: int, out: Path) -> dict[str, int]:
    """Counts on stdout; the files not parsed named with their reasons on stderr (the first LISTED)."""
    reports = summary.reports
    counts = {s: reports.filter(reports["status"] == s).height for s in ("parsed", "partial", "rejected")}
    typer.echo(
        f"{n_files} files: {counts['parsed']} parsed, {counts['partial']} partial, {counts['rejected']} rejected; "
        f"{summary.n_cells} cells ({summary.n_ambiguous} ambiguous); {summary.n_failed} rule violations -> {out}"
    )
    for status in ("rejected", "partial"):
        named = reports.filter(reports["status"] == status).select("source_file", "reason").rows()
        if named:
            console.print(f"{status}:", highlight=False)
            for source_file, reason in named[:LISTED]:
                console.print(Text(f"  {source_file}: {reason}"))
            if len(named) > LISTED:
                console.print(f"  and {len(named) - LISTED} more (reports.parquet lists them all)")
    return counts


LISTED = 20  # files named in the terminal; reports.parquet has all


def _first(names: list[str], n: int = LISTED) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _warn(message: str) -> None:
    console.print(Text(message, style="yellow"))


def _print_frame(frame, title: str, max_text: int = 70) -> None:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("source_file", "rule"))
    for row in frame.iter_rows():
        cells = ("" if v is None else str(v) for v in row)
        table.add_row(*(c if len(c) <= max_text else c[: max_text - 1] + "…" for c in cells))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command()
def check(
    dataset: Annotated[Path, typer.Option("--db", "--dataset", help="a dataset folder written by ogi build")]
    = Path("data/dataset"),
    strict: Annotated[bool, typer.Option(help="exit 1 when an official rule (R1) fails anywhere")] = False,
    top: Annotated[int, typer.Option(help="how many reports to list")] = 10,
) -> None:
    """Rule summary and the reports that need attention most."""
    if not (dataset / "facts.parquet").exists():
        _error(f"{dataset} is not a dataset folder (no facts.parquet); run ogi build first")
        raise typer.Exit(2)
    facts, reports, violations = quality.load(dataset)
    counts = {s: reports.filter(reports["status"] == s).height for s in ("parsed", "partial", "rejected")}
    typer.echo(f"{reports.height} reports: {counts['parsed']} parsed, {counts['partial']} partial, "
               f"{counts['rejected']} rejected")
    summary = quality.rule_summary(facts, violations, reports)
    _print_frame(summary, "Rules")
    _print_frame(quality.worst_reports(reports, violations, top), f"Reports needing attention (top {top})")
    from pipeline.warehouse import query as query_mod

    con = query_mod.connect(dataset)
    try:
        review = con.sql("SELECT * FROM report_quality").pl()
    finally:
        con.close()
    outcomes = {family: review[family].value_counts().sort(family).rows() for family in quality.REVIEW_FAMILIES}
    typer.echo("Reviewer's checks: " + "; ".join(
        f"{family} " + ", ".join(f"{n} {outcome}" for outcome, n in counts) for family, counts in outcomes.items()))
    _print_frame(quality.reviewer_findings(review, top), f"Reviewer's findings (top {top})", max_text=110)
    official = summary.filter(summary["severity"] == "official")["failed"].sum()
    if strict and official:
        _error(f"{official} official rule failure(s)")
        raise typer.Exit(1)


# --- analysis layer: ask the warehouse, export for spreadsheets, write the data dictionary ---------------

DatasetOption = Annotated[Path, typer.Option(
    "--db", "--dataset", help="dataset folder (its ogi.duckdb) or a .duckdb file")]


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL (DuckDB dialect), e.g. \"SELECT * FROM report_summary\"; "
                                              "several statements separated by ; print every result")],
    db: DatasetOption = Path("data/dataset"),
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV (header, NULL as empty field)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array of objects")] = False,
) -> None:
    """Run a query on the warehouse (read-only) and print the result as a table, CSV or JSON."""
    import duckdb

    from pipeline.warehouse import query as query_mod

    if as_csv and as_json:
        _error("choose one of --csv and --json")
        raise typer.Exit(2)
    try:
        results = query_mod.run_all(db, query)
    except FileNotFoundError as exc:
        _error(f"{exc}")
        raise typer.Exit(2) from None
    except duckdb.Error as exc:
        _error(f"{type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    if (as_csv or as_json) and len(results) > 1:
        _error(f"{len(results)} statements: --csv and --json print one result; run the statements one at a time")
        raise typer.Exit(2)
    if as_csv:
        typer.echo(query_mod.to_csv(results[0]), nl=False)
    elif as_json:
        typer.echo(query_mod.to_json(results[0]))
    else:
        out = Console()
        for number, result in enumerate(results, start=1):
            if len(results) > 1:
                out.print(f"statement {number}:", style="bold")
            out.print(query_mod.rich_table(result, width=out.width))
            console.print(f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}")


@app.command()
def export(
    db: DatasetOption = Path("data/dataset"),
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the CSV files")] = Path("data/export"),
    all_copies: Annotated[bool, typer.Option(
        "--all-copies", help="every input file, not only the preferred copy per agency and year")] = False,
    panel: Annotated[bool, typer.Option(
        "--panel", help="one row per agency and year, every cell a typed column (panel.parquet and panel.csv)")]
    = False,
) -> None:
    """Write wide CSV tables for spreadsheets (UTF-8 with BOM: Excel shows the Chinese text), or the panel."""
    from pipeline.warehouse import export as export_mod
    from pipeline.warehouse import query as query_mod

    try:
        con = query_mod.connect(db)
    except FileNotFoundError as exc:
        _error(f"{exc}")
        raise typer.Exit(2) from None
    try:
        tables = {"panel": export_mod.panel(con)} if panel else export_mod.wide_tables(con, preferred_only=not all_copies)
    finally:
        con.close()
    if panel:
        out.mkdir(parents=True, exist_ok=True)
        tables["panel"].write_parquet(out / "panel.parquet")
        typer.echo(f"{out / 'panel.parquet'}  ({tables['panel'].height} rows, {tables['panel'].width} columns)")
    for path in export_mod.write_csv_tables(tables, out):
        typer.echo(f"{path}  ({tables[path.stem].height} rows)")


@app.command()
def dictionary(
    out: Annotated[Path, typer.Option("--out", "-o", help="Markdown file to write")] = Path("docs/data_dictionary.md"),
    check: Annotated[bool, typer.Option("--check", help="write nothing; exit 1 when the file is out of date")] = False,
) -> None:
    """Generate the data dictionary from the pandera models and the labels."""
    from pipeline.warehouse import dictionary as dictionary_mod

    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != dictionary_mod.render():
            _error(f"{out} is out of date: run `ogi dictionary` (make dictionary)")
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    changed = dictionary_mod.write(out)
    typer.echo(f"{out} {'written' if changed else 'unchanged'}")


@app.command()
def audit(
    db: DatasetOption = Path("data/dataset"),
    out: Annotated[Path, typer.Option("--out", "-o", help="folder of the site to write")] = Path("data/dataset-audit"),
) -> None:
    """Write a static site: an index of every report and one page per report (tables, sources, findings)."""
    import time

    from pipeline.audit.site import build_site
    from pipeline.warehouse import query as query_mod

    try:
        query_mod.resolve_warehouse(db)
    except FileNotFoundError as exc:
        _error(f"{exc}")
        raise typer.Exit(2) from None
    started = time.perf_counter()
    pages = build_site(db if db.is_dir() else db.parent, out)
    typer.echo(f"{out / 'index.html'}: {pages} report page(s) in {time.perf_counter() - started:.1f} s")
