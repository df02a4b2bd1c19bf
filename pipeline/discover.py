"""Discover input files: every file under the given paths, in a stable order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # where to read it
    source_file: str  # path relative to the INPUT it was found under (as the contract asks)
    manifest_agency: str | None = None  # what a user's manifest says, overriding the text
    manifest_year: int | None = None


def discover(inputs: list[Path]) -> list[SourceFile]:
    """Files named directly, and every file under named folders (recursively, hidden ones skipped).

    A file reached twice through overlapping inputs is listed once.
    """
    found: list[SourceFile] = []
    seen: set[Path] = set()
    for root in inputs:
        if root.is_dir():
            candidates = sorted(
                p for p in root.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
            pairs = [(p, p.relative_to(root).as_posix()) for p in candidates]
        else:
            pairs = [(root, root.name)]
        for path, rel in pairs:
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            found.append(SourceFile(path, rel))
    return found


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
