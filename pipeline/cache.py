"""Content-hash cache of per-report and per-batch results, for incremental rebuilds.

Keys are hashes of the file's bytes (SHA-256), whatever overrides it (manifest values, limits) and
the builder's own version (a hash of every module and data file of the package), so a change in the
code or the domain tables invalidates everything it could affect. A stat table (path, size, mtime)
avoids reading and hashing unchanged files again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import zlib
from functools import cache
from importlib import resources
from pathlib import Path


@cache
def builder_version() -> str:
    """Hash of the package's code and data: results cached by another version are never reused."""
    digest = hashlib.sha256()
    root = resources.files("pipeline")
    for path in sorted(Path(str(root)).rglob("*")):
        if path.suffix in (".py", ".csv") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(Path(str(root))).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def key(*parts) -> str:
    return hashlib.sha256(repr((builder_version(),) + parts).encode()).hexdigest()


class Cache:
    """A folder of compressed pickles, written atomically (temp file, then rename)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def _path(self, kind: str, name: str) -> Path:
        return self.folder / kind / name[:2] / f"{name}.pkl.z"

    def get(self, kind: str, name: str):
        if self.folder is None:
            return None
        try:
            return pickle.loads(zlib.decompress(self._path(kind, name).read_bytes()))
        except (OSError, zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def put(self, kind: str, name: str, value) -> None:
        if self.folder is None:
            return
        path = self._path(kind, name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as f:
                f.write(zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1))
            os.replace(f.name, path)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def put_frames(self, kind: str, name: str, frames: dict) -> None:
        """Frames as zstd-compressed Arrow IPC files in one folder (fast to read back, no pickling)."""
        if self.folder is None:
            return
        final = self.folder / kind / name[:2] / name
        if final.exists():
            return
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
            for part, frame in frames.items():
                frame.write_ipc(staging / f"{part}.arrow", compression="zstd")
            os.replace(staging, final)
        except OSError:
            pass

    def get_frames(self, kind: str, name: str, parts: tuple[str, ...]) -> dict | None:
        if self.folder is None:
            return None
        import polars as pl

        folder = self.folder / kind / name[:2] / name
        try:
            return {part: pl.read_ipc(folder / f"{part}.arrow") for part in parts}
        except (OSError, pl.exceptions.ComputeError):
            return None

    def has_frames(self, kind: str, name: str) -> bool:
        return self.folder is not None and (self.folder / kind / name[:2] / name).is_dir()

    def load_stats(self) -> dict[str, tuple[int, int, str]]:
        return self.get("stat", "files") or {}

    def save_stats(self, stats: dict[str, tuple[int, int, str]]) -> None:
        self.put("stat", "files", stats)
