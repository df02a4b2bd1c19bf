"""Discover input files: every file under the given paths, in a stable order.

Nothing is skipped without a word: a folder or file that cannot be listed becomes a source with a
``problem`` (the build lists it as rejected, with the reason), and hidden entries (names starting
with ``.``) are returned in ``Discovery.hidden`` for the command line and ``build.json`` to name.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SourceFile:
    # where to read it: a plain string, as os.scandir gives it (a Path per file costs ~400 bytes,
    # 40 MB of the build's memory at 100,000 files); Path objects are accepted too
    path: str
    source_file: str  # distinct name in the dataset: the path relative to its INPUT (see discover)
    manifest_agency: str | None = None  # what a user's manifest says, overriding the text
    manifest_year: int | None = None
    size: int | None = None  # from the directory listing, to recognise unchanged files
    mtime_ns: int | None = None
    relative: str | None = None  # the path relative to its INPUT, when source_file carries a prefix
    problem: str | None = None  # why it cannot be read at all (a folder that cannot be listed ...)

    @property
    def name_in_input(self) -> str:
        return self.relative or self.source_file


@dataclass
class Discovery:
    sources: list[SourceFile]
    hidden: list[str] = field(default_factory=list)  # hidden entries left out, as relative paths


def _walk(root: str, prefix: str, out: list[SourceFile], hidden: list[str]) -> None:
    """Regular files under ``root`` with size and mtime (os.scandir); problems become sources."""
    try:
        entries = list(os.scandir(root))
    except OSError as exc:
        out.append(SourceFile(root, prefix or "./", problem=(
            f"the folder cannot be listed ({exc.strerror or exc}): its files are not in the dataset; "
            "check its permissions")))
        return
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        if entry.name.startswith("."):
            hidden.append(rel)
            continue
        try:
            if entry.is_dir(follow_symlinks=True):
                _walk(entry.path, rel + "/", out, hidden)
            elif entry.is_file(follow_symlinks=True):
                st = entry.stat()
                out.append(SourceFile(entry.path, rel, size=st.st_size, mtime_ns=st.st_mtime_ns))
            else:
                out.append(SourceFile(entry.path, rel, problem=(
                    "not a regular file (a broken link, a device or a socket): nothing to read")))
        except OSError as exc:
            out.append(SourceFile(entry.path, rel, problem=(
                f"cannot inspect the entry ({exc.strerror or exc}): check the link or its permissions")))


def _input_labels(inputs: list[Path]) -> list[str]:
    """A distinct short name per input (its folder name, longer paths where names repeat)."""
    parts = [Path(os.path.abspath(p)).parts for p in inputs]
    parts = [p if Path(*p).is_dir() else p[:-1] for p in parts]  # a file input: its folder
    labels = []
    for i, own in enumerate(parts):
        for depth in range(1, len(own) + 1):
            label = "/".join(own[-depth:]).lstrip("/")
            if all(label != "/".join(other[-depth:]).lstrip("/") for j, other in enumerate(parts) if j != i):
                break
        labels.append(label or f"input{i + 1}")
    if len(set(labels)) < len(labels):  # the same folder given twice under different spellings
        labels = [f"{label}#{i + 1}" for i, label in enumerate(labels)]
    return labels


def discover_inputs(inputs: list[Path]) -> Discovery:
    """Files named directly, and every file under named folders (recursively, hidden ones left out).

    ``source_file`` is the path relative to the INPUT a file was found under. When two inputs hold
    files with the same relative path (``ogi build a/ b/``, both with ``r.txt``), every file is named
    with its input's folder name first (``a/r.txt``, ``b/r.txt``), so that names stay distinct.
    A file reached twice through overlapping inputs is listed once.
    """
    per_input: list[list[SourceFile]] = []
    hidden: list[str] = []
    seen: set[str] = set()
    for root in inputs:
        listed: list[SourceFile] = []
        if root.is_dir():
            _walk(str(root), "", listed, hidden)
            listed.sort(key=lambda s: s.source_file)
            hidden.sort()
        else:
            try:
                st = root.stat()
                listed = [SourceFile(str(root), root.name, size=st.st_size, mtime_ns=st.st_mtime_ns)]
            except OSError as exc:
                listed = [SourceFile(str(root), root.name, problem=f"cannot read the file: {exc.strerror or exc}")]
        kept = []
        for source in listed:
            key = os.path.realpath(source.path) if len(inputs) > 1 else str(source.path)
            if key not in seen:
                seen.add(key)
                kept.append(source)
        per_input.append(kept)
    names = [s.source_file for listed in per_input for s in listed]
    if len(set(names)) < len(names):
        labels = _input_labels(inputs)
        per_input = [[replace(s, source_file=f"{label}/{s.source_file}", relative=s.source_file) for s in listed]
                     for label, listed in zip(labels, per_input)]
    return Discovery([s for listed in per_input for s in listed], hidden)


def discover(inputs: list[Path]) -> list[SourceFile]:
    """The sources of :func:`discover_inputs` (hidden entries aside)."""
    return discover_inputs(inputs).sources


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
