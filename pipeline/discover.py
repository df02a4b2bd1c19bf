"""Discover input files: every file under the given paths, in a stable order."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # where to read it
    source_file: str  # path relative to the INPUT it was found under (as the contract asks)
    manifest_agency: str | None = None  # what a user's manifest says, overriding the text
    manifest_year: int | None = None
    size: int | None = None  # from the directory listing, to recognise unchanged files
    mtime_ns: int | None = None


def _walk(root: str, prefix: str, out: list[tuple[str, str, int, int]]) -> None:
    """Regular files under ``root`` (hidden entries skipped), with size and mtime, by os.scandir."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        rel = f"{prefix}{entry.name}"
        try:
            if entry.is_dir(follow_symlinks=True):
                _walk(entry.path, rel + "/", out)
            elif entry.is_file(follow_symlinks=True):
                st = entry.stat()
                out.append((entry.path, rel, st.st_size, st.st_mtime_ns))
        except OSError:
            continue


def discover(inputs: list[Path]) -> list[SourceFile]:
    """Files named directly, and every file under named folders (recursively, hidden ones skipped).

    A file reached twice through overlapping inputs is listed once.
    """
    found: list[SourceFile] = []
    seen: set[str] = set()
    for root in inputs:
        if root.is_dir():
            listed: list[tuple[str, str, int, int]] = []
            _walk(str(root), "", listed)
            listed.sort(key=lambda item: item[1])
        else:
            try:
                st = root.stat()
                listed = [(str(root), root.name, st.st_size, st.st_mtime_ns)]
            except OSError:
                listed = [(str(root), root.name, None, None)]
        for path, rel, size, mtime in listed:
            key = os.path.realpath(path) if len(inputs) > 1 else path
            if key in seen:
                continue
            seen.add(key)
            found.append(SourceFile(Path(path), rel, size=size, mtime_ns=mtime))
    return found


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
