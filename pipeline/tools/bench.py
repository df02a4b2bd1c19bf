"""Benchmark: ``make bench`` (``python -m pipeline.tools.bench --n 10000``).

Builds N synthetic reports (plus the sample reports) without a cache and prints reports/s, MB/s, the
peak memory of the whole process tree, and the ratio to a floor measured in the same run (read the
same files, decode, NFKC, OpenCC t2s, nothing else, on as many processes as the build). Then the same
build with the cache on (a user's first build, which fills it), a rebuild with no change, a rebuild
after adding 1 % of files, a byte-for-byte comparison with the clean build, and the share of synthetic
truth recovered, PDF pages/s and OCR seconds per page on generated scans (one core).
Results are appended to ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from pipeline.ingest.decode import decode
from pipeline.ingest.normalize import _t2s
from pipeline.tools.synth import make_report

ROOT = Path(__file__).resolve().parents[2]  # the project: pipeline/tools/bench.py


def _floor_one(paths: list[str]) -> int:
    t2s = _t2s()
    size = 0
    for path in paths:
        data = Path(path).read_bytes()
        size += len(data)
        text = decode(data, path).text or ""
        t2s.convert(unicodedata.normalize("NFKC", text))
    return size


def measure_floor(files: list[Path], jobs: int) -> float:
    """Seconds to read, decode, NFKC and t2s every file, on ``jobs`` processes."""
    chunks = [[str(p) for p in files[i::jobs]] for i in range(jobs)]
    start = time.perf_counter()
    if jobs == 1:
        _floor_one(chunks[0])
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(_floor_one, chunks))
    return time.perf_counter() - start


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc)."""
    total = 0
    pids = [pid]
    seen = set()
    while pids:
        current = pids.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            with open(f"/proc/{current}/task/{current}/children") as f:
                pids.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return total


def timed_build(inputs: Path, out: Path, jobs: int, cache: bool) -> tuple[float, int]:
    """Run ``ogi build`` as a separate process: (seconds, peak RSS of its process tree)."""
    command = [sys.executable, "-m", "pipeline", "build", str(inputs), "--out", str(out), "--jobs", str(jobs)]
    if not cache:
        command.append("--no-cache")
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"build failed: {stderr.decode(errors='replace')[-2000:]}")
    return seconds, peak


def write_inputs(folder: Path, n: int, seed: int, start: int = 0) -> list[str]:
    """Write reports ``start``..``start + n - 1`` of the seeded generator; their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index in range(start, start + n):
        report = make_report(seed, index)
        (folder / report.name).write_bytes(report.data)
        names.append(report.name)
    return names


TRUTH_SAMPLE = 2000  # reports whose every cell is compared with the generator's truth


def truth_recovered(dataset: Path, seed: int, n: int) -> tuple[int, int]:
    """Cells of (a deterministic sample of) the synthetic reports read back exactly as generated."""
    import polars as pl

    step = max(1, n // TRUTH_SAMPLE)
    reports = [make_report(seed, index) for index in range(0, n, step)]
    names = [r.name for r in reports]
    facts = (pl.scan_parquet(dataset / "facts.parquet")
             .filter(pl.col("source_file").is_in(names) & (pl.col("status") != "derived"))
             .select("source_file", "section", "row", "col", "value", "status").collect())
    got = {}
    for file, section, row, col, value, status in facts.iter_rows():
        got[(file, section, row, col)] = "blank" if status == "blank" else "?" if status == "ambiguous" else value
    right = total = 0
    for report in reports:
        for section, row, col, value in report.truth:
            total += 1
            expected = value if value == "blank" else float(value)
            right += got.get((report.name, section, row, col)) == expected
    return right, total


def pdf_pages_per_second() -> str:
    pdfs = sorted((ROOT.parent / "shared" / "corpus" / "pdf").glob("*.pdf"))
    if not pdfs:
        return "n/a (no PDFs in ../shared/corpus/pdf)"
    from pipeline.ingest.readers.pdf import measure_pages_per_second

    pages, seconds = measure_pages_per_second(p.read_bytes() for p in pdfs)
    return f"{pages / seconds:.1f}" if seconds else "n/a"


def ocr_seconds_per_page() -> str:
    """Seconds per page of OCR on one core, on generated scans: the tests' report drawn as page
    pictures at 150 dpi, turned 0.5 degrees, with noise (tests/scan_documents.py)."""
    from pipeline.ingest.readers import ocr_engine

    if ocr_engine.missing():
        return f"n/a ({ocr_engine.missing()})"
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from scan_documents import cjk_font, scanned_pdf
    except ImportError:
        return "n/a (tests/scan_documents.py not found)"
    if cjk_font() is None:
        return "n/a (no CJK font to draw the scans)"
    from pipeline.ingest.readers.pdf import read_pdf

    data = scanned_pdf(150, 0.5, 6.0)
    ocr_engine.engines()  # models loaded once per process, not per page
    begin = time.perf_counter()
    doc = read_pdf(data)
    seconds = time.perf_counter() - begin
    return f"{seconds / (doc.pages or 1):.2f}"


def _parquet_files(dataset: Path) -> dict[str, str]:
    """Each Parquet file of a dataset, by the hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dataset.glob("*.parquet"))}


def run(n: int, jobs: int, seed: int, keep: Path | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="ogi-bench-")) if keep is None else keep
    inputs, out = work / "raw", work / "dataset"
    write_inputs(inputs, n, seed)
    shutil.copytree(ROOT / "data" / "raw", inputs / "samples", dirs_exist_ok=True)
    files = sorted(p for p in inputs.rglob("*") if p.is_file())
    megabytes = sum(p.stat().st_size for p in files) / 2**20

    floor = measure_floor(files, jobs)
    clean, clean_rss = timed_build(inputs, out, jobs, cache=False)
    clean_files = _parquet_files(out)
    right, total = truth_recovered(out, seed, n)
    # what a user's first `ogi build` costs (the cache is on by default): the clean build plus filling it
    first_cached, _ = timed_build(inputs, out, jobs, cache=True)
    unchanged, _ = timed_build(inputs, out, jobs, cache=True)
    identical = _parquet_files(out) == clean_files
    added = write_inputs(inputs, max(1, n // 100), seed, start=n)
    incremental, _ = timed_build(inputs, out, jobs, cache=True)
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "reports": len(files), "jobs": jobs, "megabytes": round(megabytes, 1),
        "clean_s": round(clean, 2), "reports_per_s": round(len(files) / clean, 1),
        "mb_per_s": round(megabytes / clean, 2), "peak_rss_mb": round(clean_rss / 2**20),
        "floor_s": round(floor, 2), "ratio_to_floor": round(clean / floor, 1),
        "first_build_with_cache_s": round(first_cached, 2), "unchanged_rebuild_s": round(unchanged, 2),
        "identical_to_clean": identical,
        "added_files": len(added), "rebuild_after_adding_s": round(incremental, 2),
        "synthetic_truth_cells": f"{right}/{total}", "pdf_pages_per_s": pdf_pages_per_second(),
        "ocr_s_per_page": ocr_seconds_per_page(),
    }
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return result


def record(result: dict, path: Path) -> None:
    header = "| " + " | ".join(result) + " |\n|" + "---|" * len(result) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("# Benchmark results (`make bench`)\n\nOne row per run; see pipeline/tools/bench.py for what "
                        "each figure measures.\n\n" + header, encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    headers = [line for line in lines if line.startswith("| date")]
    last = next((line for line in reversed(lines) if line.strip()), "")
    with path.open("a", encoding="utf-8") as f:
        if headers and headers[-1] != header.splitlines()[0]:
            f.write("\n" + header)  # the figures measured changed: a new table
        elif not last.startswith("|"):
            f.write("\n" + header)  # a paragraph about the last runs ends their table: a new one
        f.write("| " + " | ".join(str(v) for v in result.values()) + " |\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="synthetic reports (default 10000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.md")
    args = parser.parse_args(argv)
    result = run(args.n, args.jobs, args.seed, args.keep)
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    record(result, args.results)
    print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
