"""Content-hash cache of per-report and per-batch results, for incremental rebuilds.

Keys are hashes of the file's bytes (SHA-256), whatever overrides it (manifest values, limits) and
the builder's version: the source of the modules on the parse path (the modules the per-report and
per-batch work imports, found by reading their imports, so a chart or a view change keeps the
cache), every data table of the package, and the installed versions of the libraries that shape the
output. A stat table (path, size, mtime) avoids reading and hashing unchanged files again.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
import re
import sqlite3
import tempfile
import threading
import zlib
from contextlib import contextmanager
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from pipeline.ingest.readers import ocr_engine

# Where the per-report and per-batch work starts; its imports within the package are followed.
PARSE_ROOTS = ("pipeline.process",)
# Libraries whose version can change a result: readers, decoders, converters, frame building.
OUTPUT_LIBRARIES = ("pdfminer.six", "opencc", "charset-normalizer", "lxml", "python-docx", "polars", "pyarrow",
                    "tesserocr", "numpy", "pillow")


def _package_root() -> Path:
    return Path(str(resources.files("pipeline")))


def _module_file(name: str, root: Path) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return root / "__init__.py"
    relative = Path(*parts)
    for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


# A line that starts an import statement (a parenthesised list may run over several lines). Parsing
# only these is ten times faster than parsing the whole module, and every build and worker does it.
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+\.*[\w.]*[ \t]+import[ \t]*(?:\([^)]*\)|.*)|import[ \t]+.*)$", re.M)


def _import_statements(source: str) -> list[ast.stmt]:
    """The import statements of a module, at any depth (a function's lazy imports count too)."""
    statements: list[ast.stmt] = []
    for match in _IMPORT_LINE.finditer(source):
        try:
            statements.extend(ast.parse(match.group().strip()).body)
        except SyntaxError:  # a string's line that reads like an import, or a list the pattern cut short
            return [node for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.Import, ast.ImportFrom))]
    return statements


def _imported_modules(path: Path, name: str) -> set[str]:
    """Package modules a module imports (absolute ``pipeline.…`` imports and relative ones)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_statements(path.read_text(encoding="utf-8")):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("pipeline"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            if base.startswith("pipeline"):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)  # submodules named in the list
    # importing a.b.c runs a/__init__ and a/b/__init__ too
    return found | {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 1)}


def parse_path_modules(roots: tuple[str, ...] = PARSE_ROOTS) -> list[Path]:
    """Source files of the modules reachable from ``roots`` through imports, sorted."""
    root = _package_root()
    seen: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name, root)
        if path is None:
            continue  # a name imported from a module, not a module
        seen[name] = path
        todo.extend(_imported_modules(path, name) - set(seen))
    return sorted(set(seen.values()))


def library_versions() -> dict[str, str]:
    versions = {}
    for name in OUTPUT_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    versions["tesseract"] = ocr_engine.version()  # libtesseract and the models it reads
    return versions


@cache
def builder_version() -> str:
    """Hash of what decides a parse: parse-path code, data tables and library versions."""
    digest = hashlib.sha256()
    root = _package_root()
    files = parse_path_modules() + sorted(p for p in root.rglob("*.csv") if "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(repr(sorted(library_versions().items())).encode())
    return digest.hexdigest()[:16]


def key(*parts) -> str:
    return hashlib.sha256(repr((builder_version(),) + parts).encode()).hexdigest()


# The pickled entries (one per report read, the stat table) live in one SQLite file, not a file each:
# creating a small file took 0.2-0.3 ms on this project's machine, more than pickling the report's facts.
ENTRIES_FILE = "entries.sqlite3"
_connections: dict[tuple[int, str], sqlite3.Connection] = {}  # this process's, by thread and file
_OPEN_CONNECTIONS = 4  # a thread's, at most
BUSY_SECONDS = 120  # how long a worker waits for the other's write of a batch
_owner = [os.getpid()]
_inherited: list[sqlite3.Connection] = []  # a forked parent's: never used nor closed here (SQLite's rule)
_unusable: set[str] = set()  # entries files this process could not open: it goes without them


def forget_connections() -> None:
    """Close this thread's connections to entries files, and try again those the process could not open."""
    for slot in [slot for slot in _connections if slot[0] == threading.get_ident()]:
        _connections.pop(slot).close()
    _unusable.clear()


def _connect(path: Path) -> sqlite3.Connection | None:
    """This process's and thread's connection to an entries file (made, or made again when it is not a
    database any more); None when it cannot be opened at all."""
    if _owner[0] != os.getpid():
        _inherited.extend(_connections.values())
        _connections.clear()
        _unusable.clear()
        _owner[0] = os.getpid()
    slot = (threading.get_ident(), str(path))
    if slot in _connections:
        return _connections[slot]
    if str(path) in _unusable:
        return None
    for attempt in range(2):
        try:
            connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
            # WAL: the workers read while one of them writes; a crash of the build loses at most the
            # entries of the batch being written, and synchronous=OFF spares a flush per batch (an
            # entry the system lost is only read again)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("CREATE TABLE IF NOT EXISTS entry (kind TEXT NOT NULL, name TEXT NOT NULL, "
                               "value BLOB NOT NULL, PRIMARY KEY (kind, name))")
            mine = [other for other in _connections if other[0] == slot[0]]
            for other in mine[: max(0, len(mine) + 1 - _OPEN_CONNECTIONS)]:  # many folders (tests): the oldest
                _connections.pop(other).close()
            _connections[slot] = connection
            return connection
        except sqlite3.OperationalError:  # locked for too long, read-only, no room: this build goes without
            _unusable.add(str(path))
            return None
        except sqlite3.DatabaseError:  # not a database (a disk full, a copy cut short): start it again
            if attempt == 0:
                try:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
                except OSError:
                    return None
    return None


class Cache:
    """A folder: pickled entries in one SQLite file (``get``/``put``), and batches as folders of Arrow
    files (``put_frames``/``get_frames``), each written atomically."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._deferred: list[tuple[str, str, bytes]] | None = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def _entries(self) -> sqlite3.Connection | None:
        return _connect(self.folder / ENTRIES_FILE)

    def get(self, kind: str, name: str):
        if self.folder is None:
            return None
        try:
            connection = self._entries()
            row = connection.execute("SELECT value FROM entry WHERE kind = ? AND name = ?",
                                     (kind, name)).fetchone() if connection is not None else None
            return pickle.loads(zlib.decompress(row[0])) if row is not None else None
        except (sqlite3.Error, zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def put(self, kind: str, name: str, value) -> None:
        if self.folder is None:
            return
        row = (kind, name, zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1))
        if self._deferred is not None:
            self._deferred.append(row)
        else:
            self._write([row])

    @contextmanager
    def deferred(self):
        """The ``put`` calls inside the block written together when it ends (one transaction)."""
        if self._deferred is not None:
            yield
            return
        self._deferred = []
        try:
            yield
        finally:
            rows, self._deferred = self._deferred, None
            self._write(rows)

    def _write(self, rows: list[tuple[str, str, bytes]]) -> None:
        if not rows or self.folder is None:
            return
        try:
            connection = self._entries()
            if connection is None:
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany("INSERT OR REPLACE INTO entry VALUES (?, ?, ?)", rows)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            pass  # a cache that cannot be written only costs time

    def names(self, kind: str) -> list[str]:
        """The names of the entries of a kind (for inspection and tests)."""
        connection = self._entries() if self.folder is not None else None
        if connection is None:
            return []
        return [name for (name,) in connection.execute("SELECT name FROM entry WHERE kind = ? ORDER BY name",
                                                        (kind,))]

    def _entry(self, kind: str, name: str) -> Path:
        return self.folder / kind / name[:2] / name

    def put_frames(self, kind: str, name: str, frames: dict, files: dict[str, bytes] | None = None) -> None:
        """Frames as zstd-compressed Arrow IPC files in one folder (fast to read back, no pickling),
        with ``files`` (name -> bytes) beside them."""
        if self.folder is None:
            return
        final = self._entry(kind, name)
        if final.exists():
            return
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
            for part, frame in frames.items():
                frame.write_ipc(staging / f"{part}.arrow", compression="zstd")
            for filename, data in (files or {}).items():
                (staging / filename).write_bytes(data)
            os.replace(staging, final)
        except OSError:
            pass

    def get_frames(self, kind: str, name: str, parts: tuple[str, ...]) -> dict | None:
        if self.folder is None:
            return None
        import polars as pl

        folder = self._entry(kind, name)
        try:
            return {part: pl.read_ipc(folder / f"{part}.arrow") for part in parts}
        except (OSError, pl.exceptions.ComputeError):
            return None

    def has_frames(self, kind: str, name: str) -> bool:
        return self.folder is not None and self._entry(kind, name).is_dir()

    def get_files(self, kind: str, name: str, filenames: tuple[str, ...]) -> dict[str, bytes] | None:
        """The files kept beside an entry's frames, or None when one of them is missing."""
        if self.folder is None:
            return None
        try:
            return {filename: (self._entry(kind, name) / filename).read_bytes() for filename in filenames}
        except OSError:
            return None

    def add_files(self, kind: str, name: str, files: dict[str, bytes]) -> None:
        """Files added to an existing entry (one written before they were kept), each atomically."""
        folder = self._entry(kind, name) if self.folder is not None else None
        if folder is None or not folder.is_dir():
            return
        try:
            for filename, data in files.items():
                with tempfile.NamedTemporaryFile(dir=folder, prefix=".tmp-", delete=False) as f:
                    f.write(data)
                os.replace(f.name, folder / filename)
        except OSError:
            pass

    def load_stats(self) -> dict[str, tuple[int, int, str]]:
        return self.get("stat", "files") or {}

    def save_stats(self, stats: dict[str, tuple[int, int, str]]) -> None:
        self.put("stat", "files", stats)
