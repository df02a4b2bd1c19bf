"""Write a dataset atomically: Parquet files plus a DuckDB file of views over them.

A build writes into a fresh version folder next to the output (``.<name>.builds/<id>/``) and then
points ``DIR`` at it by atomically replacing a symbolic link. A build killed at any moment leaves the
previous dataset complete and readable; a reader never sees a mix of two builds.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb
import polars as pl

from pipeline import views


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True)
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def write_duckdb(folder: Path) -> None:
    con = duckdb.connect(str(folder / "ogi.duckdb"))
    try:
        views.install(con, folder)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def write_dataset(out: Path, facts: pl.DataFrame, reports: pl.DataFrame, violations: pl.DataFrame) -> Path:
    """Write the three tables and ogi.duckdb, then swap them in as ``out``. Returns the version folder."""
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a dataset folder")
    builds = out.parent / f".{out.name}.builds"
    builds.mkdir(parents=True, exist_ok=True)
    version = builds / f"build-{uuid.uuid4().hex[:12]}"
    version.mkdir()
    try:
        _write_parquet(facts, version / "facts.parquet")
        _write_parquet(reports, version / "reports.parquet")
        _write_parquet(violations, version / "violations.parquet")
        write_duckdb(version)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    _swap_in(out, version)
    return version


def _swap_in(out: Path, version: Path) -> None:
    if out.exists() and not out.is_symlink():
        # A plain folder from elsewhere: keep it beside the builds, once, then use links from now on.
        out.rename(version.parent / f"previous-{uuid.uuid4().hex[:8]}")
    link = out.parent / f".{out.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version, out.parent), link)
    os.replace(link, out)  # atomic on POSIX
    for old in version.parent.iterdir():
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
