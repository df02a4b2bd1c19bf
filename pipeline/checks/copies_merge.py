"""The copies' merge of a whole build (one reading per report from its copies, ``copies.merge_copies``),
a part of the copies at a time, taking the groups the last build merged as they were.

A copy group's merge depends only on the group's rows of ``copies_to_merge`` and on the facts of its
files, and a file's facts only on its batch, whose key names the batch's bytes, the limits and the
builder. So a group whose rows and batch keys hash as the last build's did merges to the same cells,
derived rows and disagreements: the cache keeps them (``merge/``, one Parquet file, a row group per
part) and a rebuild takes them from there, merging only the groups that are new or changed. Every
group's rows land where one merge of all copies puts them (groups in order, within a group as the
merge gives them), so a rebuild writes the bytes a clean build writes.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipeline import cache as cache_mod
from pipeline.checks import copies
from pipeline.knowledge import schemas
from pipeline.warehouse import store

MERGE_PART_REPORTS = 500  # files whose copies are merged at once (about 150 MB)
# new merged rows validated at once: a schema check costs about as much for 100 rows as for 10,000
# (15 ms), and in a rebuild a part has few (20,000 merged cells are about 6 MB held a little longer)
VALIDATE_ROWS = 20_000
TAKE_ROWS = 72_000  # kept rows read at once (about two parts' worth, 160 MB at most)

# What the cache keeps of a merged group: a row per merged cell, derived row and disagreement (_kind),
# with the group and the fact's or the finding's columns (the other's left empty); after them, in the
# last row group, a row per group with its fingerprint (INDEX).
CELL, DERIVED, DISAGREEMENT, INDEX = 0, 1, 2, 3
_VIOLATION_ONLY = {name: dtype for name, dtype in schemas.VIOLATION_SCHEMA.items() if name not in schemas.FACT_SCHEMA}
_REUSABLE = "_reusable"  # a column of the parts: the last build merged the group alike
KEPT_SCHEMA = {"_group": pl.String, "_fingerprint": pl.String, "_kind": pl.Int8, **schemas.FACT_SCHEMA,
               **_VIOLATION_ONLY}


class _Validated:
    """Frames checked by ``validate`` a gathering of ``VALIDATE_ROWS`` rows at a time, the last by ``flush``."""

    def __init__(self, validate):
        self._validate = validate
        self._gathering = store.Gathering(VALIDATE_ROWS, measure=len)

    def add(self, frame: pl.DataFrame) -> None:
        self._check(self._gathering.add(frame))

    def flush(self) -> None:
        self._check(self._gathering.take())

    def _check(self, frames: list[pl.DataFrame]) -> None:
        if frames:
            self._validate(pl.concat(frames))


def group_fingerprints(merging: pl.DataFrame, batch_keys: pl.DataFrame) -> pl.DataFrame:
    """``_group``, ``_fingerprint`` for each group of ``merging`` (as copies_to_merge returns it): a hash
    of the group's rows and of its files' batch keys (``batch_keys``: source_file, batch_key), null
    when a file's batch has no key (a limit or a missing tool decided part of it)."""
    keyed = merging.join(batch_keys, on="source_file", how="left").sort("_group", "source_file")
    digests: dict[str, hashlib._Hash] = {}
    unkeyed: set[str] = set()
    group_at = keyed.columns.index("_group")
    key_at = keyed.columns.index("batch_key")
    for row in keyed.iter_rows():
        digests.setdefault(row[group_at], hashlib.sha256()).update(repr(row).encode())
        if row[key_at] is None:
            unkeyed.add(row[group_at])
    return pl.DataFrame({"_group": list(digests),
                         "_fingerprint": [None if group in unkeyed else digest.hexdigest()
                                          for group, digest in digests.items()]},
                        schema={"_group": pl.String, "_fingerprint": pl.String})


def _kept_name() -> str:
    """The kept merges' file: it changes with the builder and with this module (which assembles them)."""
    return f"merged-{cache_mod.key('copies merge', hashlib.sha256(Path(__file__).read_bytes()).hexdigest())[:16]}"


class KeptMerges:
    """The last build's merged groups (read) and this build's (written, then put in their place)."""

    def __init__(self, cache_folder: Path | None):
        self.folder = cache_folder / "merge" if cache_folder is not None else None
        self._reading: Path | None = None
        self._index = pl.DataFrame(schema={"_group": pl.String, "_fingerprint": pl.String})
        self._writer: pq.ParquetWriter | None = None
        self._writes = store.WriteBehind()  # a part's rows are written while the next part is merged
        self._written: list[pl.DataFrame] = []  # this build's index
        self._arrow = store.arrow_schema(KEPT_SCHEMA)
        # the kept rows read once, in order, as parts ask for groups further on
        self._rows = 0  # in the file, INDEX rows too
        self._read_up_to = 0  # rows of the file read so far
        self._ahead = pl.DataFrame(schema=KEPT_SCHEMA)  # rows read and not yet asked for
        self._asked: str | None = None  # the last group asked for so far
        self._by_part = False  # a call asked for groups before it, or the one pass failed
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        store.remove_stale_private(self.folder)
        self.path = self.folder / f"{_kept_name()}.parquet"
        self._temporary = self._private_name("write")
        try:
            # read through a link of its own: a build replacing the file meanwhile does not change
            # what this one reads
            reading = self._private_name("read")
            os.link(self.path, reading)
            self._reading = reading
            self._index = self._scan().filter(pl.col("_kind") == INDEX).select("_group", "_fingerprint").collect()
            self._rows = self._scan().select(pl.len()).collect().item()
        except (OSError, pl.exceptions.PolarsError):  # none yet, or unreadable: merged again and replaced
            self._index = self._index.clear()

    def _private_name(self, purpose: str) -> Path:
        return self.folder / f".{purpose}-{uuid.uuid4().hex[:12]}.parquet"

    def _scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self._reading)

    def reusable(self, fingerprints: pl.DataFrame) -> pl.DataFrame:
        """The groups of ``fingerprints`` the last build merged with the same fingerprint."""
        return fingerprints.join(self._index, on=["_group", "_fingerprint"], how="semi")

    def take(self, groups: pl.Series) -> pl.DataFrame:
        """The kept rows of ``groups`` (reusable, sorted), in the order kept.

        The file holds the rows sorted by group, so while each call asks for groups after the last
        call's (parts in the order of their groups), the file is read once, front to back, a slice of
        ``TAKE_ROWS`` at a time (at 100,000 reports 1.2 s against 2.0 s for a filtered read per part).
        Otherwise only the row groups that overlap ``groups`` are read."""
        if self._reading is None or groups.is_empty():
            return pl.DataFrame(schema=KEPT_SCHEMA)
        if not self._by_part and (self._asked is None or groups[0] > self._asked):
            self._asked = groups[-1]
            try:
                return self._read_on(groups)
            except pl.exceptions.PolarsError:
                self._by_part = True
                return pl.DataFrame(schema=KEPT_SCHEMA)  # those groups are merged again
        self._by_part = True
        try:
            return self._scan().filter(
                pl.col("_group").is_between(pl.lit(groups[0]), pl.lit(groups[-1])), pl.col("_kind") != INDEX,
                pl.col("_group").is_in(groups.implode())).collect()
        except pl.exceptions.PolarsError:
            return pl.DataFrame(schema=KEPT_SCHEMA)  # those groups are merged again

    def _read_on(self, groups: pl.Series) -> pl.DataFrame:
        """The rows of ``groups`` from the one pass over the file (read up to the last of them)."""
        last = groups[-1]
        ahead = [self._ahead]
        rows_kept = self._rows - self._index.height  # the INDEX rows come last
        while (ahead[-1].is_empty() or ahead[-1]["_group"][-1] <= last) and self._read_up_to < rows_kept:
            ahead.append(self._scan().slice(self._read_up_to, min(TAKE_ROWS, rows_kept - self._read_up_to))
                         .collect())
            self._read_up_to += ahead[-1].height
        rows = pl.concat(ahead)
        up_to = rows["_group"].search_sorted(last, side="right")
        self._ahead = rows.slice(up_to)
        return rows.slice(0, up_to).filter(pl.col("_group").is_in(groups.implode()))

    def keep(self, rows: pl.DataFrame, fingerprints: pl.DataFrame) -> None:
        """A part's merged rows (``KEPT_SCHEMA``) of the groups with a fingerprint (``fingerprints``: the
        part's groups), and those fingerprints, for the next build."""
        if self.folder is None:
            return
        if fingerprints["_fingerprint"].null_count():
            rows = rows.join(fingerprints.filter(pl.col("_fingerprint").is_not_null()), on="_group", how="semi",
                             maintain_order="left")
        if rows.is_empty():
            return
        if self._writer is None:
            # read back by group only: statistics for the columns row groups are chosen by, no dictionaries
            self._writer = pq.ParquetWriter(self._temporary, self._arrow, compression="lz4", use_dictionary=False,
                                            write_statistics=["_group", "_kind"])
        # sorted by group (each group's rows as they were): read back in one pass (``take``)
        self._writes.submit(self._write, rows.sort("_group", maintain_order=True))
        self._written.append(fingerprints.filter(pl.col("_group").is_in(rows["_group"].unique().implode())))

    def _write(self, rows: pl.DataFrame) -> None:
        self._writer.write_table(rows.select(list(KEPT_SCHEMA)).to_arrow().cast(self._arrow))

    def close(self, done: bool) -> None:
        """Put this build's merged groups in place of the last build's (``done``), or forget them."""
        if self.folder is None:
            return
        if self._reading is not None:
            self._reading.unlink(missing_ok=True)
        try:
            try:
                if done:
                    self._writes.wait()
            finally:
                self._writes.close()
            if self._writer is not None:
                index = pl.concat(self._written).with_columns(pl.lit(INDEX, dtype=pl.Int8).alias("_kind"))
                self._writer.write_table(pl.concat([pl.DataFrame(schema=KEPT_SCHEMA), index], how="diagonal")
                                         .to_arrow().cast(self._arrow))
                self._writer.close()
                if done:
                    os.replace(self._temporary, self.path)
                    for other in self.folder.glob("merged-*.parquet"):
                        if other != self.path:  # kept by another builder: never read again
                            other.unlink(missing_ok=True)
        except OSError:
            pass  # a merge that cannot be kept only costs time next build
        finally:
            self._temporary.unlink(missing_ok=True)


def merge_all_copies(writer: store.DatasetWriter, report_frame: pl.DataFrame, batch_keys: pl.DataFrame,
                     cache_folder: Path | None) -> pl.DataFrame:
    """One reading per report from its copies (merged_copies.parquet) and the cells they disagree on
    (violations), a part of the copies at a time; returns the report ids of the disagreements.

    The merged cells come first, then the rows derived from them, in the order one merge of all
    copies gives: each part's merged cells and disagreements are written as the part is done, its
    derived rows set aside on disk and written after the last part, so memory is bounded by the part.
    ``batch_keys`` (source_file, batch_key) says which groups the last build's merge still holds."""
    merging = copies.copies_to_merge(report_frame)
    kept = KeptMerges(cache_folder)
    fingerprints = group_fingerprints(merging, batch_keys) if kept.folder is not None \
        else pl.DataFrame(schema={"_group": pl.String, "_fingerprint": pl.String})  # nothing taken or kept
    # whether the last build merged the group alike, once for all parts
    merging = merging.with_columns(pl.col("_group").is_in(kept.reusable(fingerprints)["_group"].implode())
                                   .alias(_REUSABLE))
    to_merge = merging.filter(~pl.col(_REUSABLE))
    one_part = merging.height <= MERGE_PART_REPORTS
    # the facts of the files to merge set apart in one streaming pass, so each part reads only them
    set_apart = writer.version / ".copies-facts.parquet"
    derived_rows = store.Staged(writer.version / ".copies-derived.parquet", schemas.FACT_SCHEMA)
    found, done = [], False
    # every part's new rows are checked before the build commits anything
    checks = (_Validated(schemas.validate_facts), _Validated(schemas.validate_violations))
    try:
        facts = writer.finish("facts")
        if to_merge.height:
            facts.filter(pl.col("report_id").is_in(to_merge["report_id"].implode())).sink_parquet(set_apart)
        # a rebuild merges its changed groups in parts of their own; a build that merges every group
        # (no cache, nothing kept) merges each part as it comes, since those parts would be the same
        rebuild = kept.folder is not None and not one_part and 0 < to_merge.height < merging.height
        ahead = _MergedAhead(to_merge, set_apart, checks) if rebuild else None
        for part in ([merging] if one_part else copies.in_chunks(merging, MERGE_PART_REPORTS)):
            merged, disagreements = _merge_part(part, fingerprints, kept, facts, set_apart, checks, ahead)
            derived = pl.col("status") == "derived"
            if one_part:
                writer.write("merged_copies", pl.concat([merged.filter(~derived), merged.filter(derived)],
                                                        rechunk=True))
            else:
                writer.write("merged_copies", merged.filter(~derived))
                derived_rows.add(merged.filter(derived))
            writer.write("violations", disagreements.rechunk() if one_part else disagreements)
            found.append(disagreements.select("report_id"))
        for frame in derived_rows.frames():
            writer.write("merged_copies", frame)
        for gathered in checks:
            gathered.flush()
        done = True
    finally:
        set_apart.unlink(missing_ok=True)
        kept.close(done)
    return pl.concat(found) if found else pl.DataFrame(schema={"report_id": pl.String})


class _MergedAhead:
    """The groups a rebuild merges again (``to_merge``: the files of the groups that are not reusable),
    merged in parts of their own ahead of the parts that hold them, and handed out a part at a time.

    In a rebuild the changed groups are few and spread over every part (adding 1 % of files at 100,000
    reports changes 566 groups in 97 of 98 parts): merging them with their part would cost a merge and a
    read of the set-apart facts per part, where parts of their own need a few of each."""

    def __init__(self, to_merge: pl.DataFrame, set_apart: Path, checks: tuple[_Validated, _Validated]):
        self._chunks = copies.in_chunks(to_merge, MERGE_PART_REPORTS)
        self._set_apart, self._checks = set_apart, checks
        self._rows = pl.DataFrame(schema=KEPT_SCHEMA)  # merged and not yet handed out, sorted by group

    def up_to(self, last_group: str) -> pl.DataFrame:
        """The merged rows (``KEPT_SCHEMA``, sorted by group) of the groups up to ``last_group`` not yet
        handed out. A group's files are all in one chunk and the chunks come in the order of their groups,
        so once a group after ``last_group`` is merged, every group up to it is."""
        while self._rows.is_empty() or self._rows["_group"][-1] <= last_group:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            ids = chunk["report_id"].implode()
            merged = _merged_now(pl.scan_parquet(self._set_apart).filter(pl.col("report_id").is_in(ids)).collect(),
                                 chunk, self._checks)
            self._rows = pl.concat([self._rows, _kept_rows(*merged, chunk).sort("_group", maintain_order=True)])
        at = self._rows["_group"].search_sorted(last_group, side="right")
        handed, self._rows = self._rows.slice(0, at), self._rows.slice(at)
        return handed


def _merged_now(facts: pl.DataFrame, merging: pl.DataFrame,
                checks: tuple[_Validated, _Validated]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``copies.merge_copies`` of the groups of ``merging``, its rows handed to ``checks``."""
    merged, disagreements = copies.merge_copies(facts, merging.drop(_REUSABLE, strict=False))
    checks[0].add(merged)
    checks[1].add(disagreements)
    return merged, disagreements


def _kept_rows(merged: pl.DataFrame, disagreements: pl.DataFrame, merging: pl.DataFrame) -> pl.DataFrame:
    """A merge's rows as the cache keeps them (``KEPT_SCHEMA``): cells, derived rows, then disagreements,
    each with its group (``merging`` names the group of each preferred copy)."""
    group_of = merging.select(pl.col("preferred_id").alias("report_id"), "_group").unique()
    kinds = pl.when(pl.col("status") == "derived").then(DERIVED).otherwise(CELL).cast(pl.Int8).alias("_kind")
    return pl.concat([
        pl.DataFrame(schema=KEPT_SCHEMA).drop("_group"),
        merged.with_columns(kinds),
        disagreements.with_columns(pl.lit(DISAGREEMENT, dtype=pl.Int8).alias("_kind")),
    ], how="diagonal").join(group_of, on="report_id", how="left", maintain_order="left").select(list(KEPT_SCHEMA))


def _merge_part(part: pl.DataFrame, fingerprints: pl.DataFrame, kept: KeptMerges, facts: pl.LazyFrame,
                set_apart: Path, checks: tuple[_Validated, _Validated],
                ahead: _MergedAhead | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A part's merged facts (cells, then derived rows) and disagreements: the groups the last build
    merged alike (``_REUSABLE``) taken from ``kept``, the others merged now (and handed to ``checks``),
    or merged ``ahead`` when given; the part's rows kept for the next build."""
    groups = part["_group"].unique().sort()
    taken = kept.take(part.filter(pl.col(_REUSABLE))["_group"].unique().sort())
    fresh = ahead.up_to(groups[-1]) if ahead is not None else None
    # take gives every group asked for (each kept group has rows) or, when the file fails, none: then
    # the whole part is merged again, from all the facts (the set-apart facts hold only the groups to merge)
    failed = taken.is_empty() and part[_REUSABLE].any()
    if fresh is None or failed:
        merging = part if failed else part.filter(~pl.col(_REUSABLE))
        if merging.height:
            source = facts if failed else pl.scan_parquet(set_apart)
            merged, disagreements = _merged_now(
                source.filter(pl.col("report_id").is_in(merging["report_id"].implode())).collect(), merging, checks)
        else:
            merged, disagreements = schemas.facts_frame([]), schemas.violations_frame([])
        if kept.folder is None:  # a build without a cache: nothing taken, nothing to keep
            return merged, disagreements
        fresh = _kept_rows(merged, disagreements, merging)
        if taken.is_empty():
            kept.keep(fresh, fingerprints.join(groups.to_frame(), on="_group", how="semi"))
            return merged, disagreements
    # every group's rows in the order of the groups, each group's as its merge gave them
    rows = pl.concat([taken, fresh]).sort("_group", maintain_order=True)
    kept.keep(rows, fingerprints.join(groups.to_frame(), on="_group", how="semi"))
    kinds = rows.partition_by("_kind", as_dict=True, maintain_order=True)
    kind = {code: kinds.get((code,), rows.clear()) for code in (CELL, DERIVED, DISAGREEMENT)}
    merged = pl.concat([kind[CELL], kind[DERIVED]]).select(schemas.FACT_COLUMNS)
    return merged, kind[DISAGREEMENT].select(list(schemas.VIOLATION_SCHEMA))
