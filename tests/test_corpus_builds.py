"""The real corpus (needs ../shared): every file is accounted for and nothing crashes."""

import subprocess
import sys

import polars as pl


def test_corpus_builds_and_lists_every_file(shared, tmp_path):
    out = tmp_path / "corpus"
    inputs = [shared / "corpus" / "raw", shared / "corpus" / "rejects"]
    subprocess.run([sys.executable, "-m", "pipeline", "build", *map(str, inputs), "--out", str(out)], check=True,
                   capture_output=True)
    reports = pl.read_parquet(out / "reports.parquet")
    expected = {p.name for d in inputs for p in d.iterdir()}
    assert set(reports["source_file"]) == expected
    rejected = reports.filter(pl.col("status") == "rejected")
    assert sorted(rejected["source_file"]) == ["pingtan_2015_pre2019.txt", "pingtan_2017_pre2019.txt"]
    assert all("pre-2019 format" in reason for reason in rejected["reason"])
    facts = pl.read_parquet(out / "facts.parquet")
    assert facts.filter(pl.col("source_file").str.contains("pre2019")).is_empty()
