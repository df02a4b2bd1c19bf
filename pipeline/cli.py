"""Command line: ``ogi build INPUT... --out DIR``. Thin: it calls library functions and prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import build as build_mod
from pipeline import quality, store
from pipeline.discover import discover
from pipeline.manifest import ManifestError, apply_manifest, read_manifest

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build the OGI annual-report dataset (政府信息公开工作年度报告).")
console = Console(stderr=True)


@app.callback()
def main() -> None:
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
) -> None:
    """Read every report under INPUT and write facts, reports, violations (Parquet) and ogi.duckdb."""
    missing = [p for p in inputs if not p.exists()]
    if missing:
        console.print(f"[red]no such file or folder: {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    sources = discover(inputs)
    if manifest is not None:
        try:
            sources = apply_manifest(sources, read_manifest(manifest))
        except ManifestError as exc:
            console.print(f"[red]{exc}")
            raise typer.Exit(2) from None
    show_bar = sys.stderr.isatty()
    with Progress(TextColumn("[bold]reading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, disable=not show_bar) as progress:
        task = progress.add_task("", total=len(sources))

        def advance(source) -> None:
            progress.update(task, advance=1, description=source.source_file[-40:])

        limits = build_mod.Limits(max_bytes=int(max_mb * 2**20), seconds=timeout)
        facts, reports, violations = build_mod.build(sources, on_progress=advance, limits=limits)
    store.write_dataset(out, facts, reports, violations)
    counts = {s: reports.filter(reports["status"] == s).height for s in ("parsed", "partial", "rejected")}
    printed = facts.filter(facts["status"] != "derived")
    ambiguous = printed.filter(printed["status"] == "ambiguous").height
    failed = violations.filter(violations["outcome"] == "failed").height
    typer.echo(
        f"{len(sources)} files: {counts['parsed']} parsed, {counts['partial']} partial, {counts['rejected']} rejected; "
        f"{printed.height} cells ({ambiguous} ambiguous); {failed} sum-rule violations -> {out}"
    )
    if strict and (counts["partial"] or counts["rejected"]):
        raise typer.Exit(1)


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
    dataset: Annotated[Path, typer.Argument(help="a dataset folder written by ogi build")] = Path("data/dataset"),
    strict: Annotated[bool, typer.Option(help="exit 1 when an official rule (R1) fails anywhere")] = False,
    top: Annotated[int, typer.Option(help="how many reports to list")] = 10,
) -> None:
    """Rule summary and the reports that need attention most."""
    if not (dataset / "facts.parquet").exists():
        console.print(f"[red]{dataset} is not a dataset folder (no facts.parquet); run ogi build first")
        raise typer.Exit(2)
    facts, reports, violations = quality.load(dataset)
    counts = {s: reports.filter(reports["status"] == s).height for s in ("parsed", "partial", "rejected")}
    typer.echo(f"{reports.height} reports: {counts['parsed']} parsed, {counts['partial']} partial, "
               f"{counts['rejected']} rejected")
    summary = quality.rule_summary(facts, violations)
    _print_frame(summary, "Rules")
    _print_frame(quality.worst_reports(reports, violations, top), f"Reports needing attention (top {top})")
    official = summary.filter(summary["severity"] == "official")["failed"].sum()
    if strict and official:
        console.print(f"[red]{official} official rule failure(s)")
        raise typer.Exit(1)
