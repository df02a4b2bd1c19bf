"""A user's manifest: ``file,agency,year`` rows that override what is read from the text.

``file`` matches an input by its path relative to the INPUT it was found under, or by its base name.
Empty agency or year cells leave that field to the reader.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path, PurePosixPath

from pipeline.ingest.discover import SourceFile
from pipeline.ingest.normalize import without_spaces


class ManifestError(ValueError):
    pass


def read_manifest(path: Path) -> dict[str, tuple[str | None, int | None]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc
    if not rows or "file" not in rows[0]:
        raise ManifestError(f"manifest {path} needs a header with the columns file, agency, year")
    out = {}
    for number, row in enumerate(rows, start=2):
        year_text = (row.get("year") or "").strip()
        if year_text and not (year_text.isdigit() and 2000 <= int(year_text) <= 2100):
            raise ManifestError(f"manifest {path} line {number}: year {year_text!r} is not a report year")
        agency = without_spaces(row.get("agency") or "") or None
        out[row["file"].strip()] = (agency, int(year_text) if year_text else None)
    return out


def apply_manifest(sources: list[SourceFile], manifest: dict[str, tuple[str | None, int | None]]
                   ) -> tuple[list[SourceFile], list[str]]:
    """The sources with the manifest's values, and the manifest rows that name no source."""
    out = []
    used: set[str] = set()
    for source in sources:
        for name in (source.source_file, source.name_in_input, PurePosixPath(source.source_file).name):
            if name in manifest:
                source = dataclasses.replace(source, manifest_agency=manifest[name][0], manifest_year=manifest[name][1])
                used.add(name)
                break
        out.append(source)
    return out, sorted(set(manifest) - used)
