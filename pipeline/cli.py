"""Command line: ``ogi build INPUT... --out DIR``. Thin: it calls library functions and prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import build as build_mod
from pipeline import store
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

        facts, reports, violations = build_mod.build(sources, on_progress=advance)
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
