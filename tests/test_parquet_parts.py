"""A Parquet file assembled from parts encoded apart is the file one pyarrow writer gives."""

import io

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.warehouse import parquet_parts
from pipeline.warehouse.parquet_parts import PartsFile, encode, read_struct, write_struct

SCHEMA = pa.schema([("report_id", pa.string()), ("row", pa.string()), ("value", pa.float64()),
                    ("line", pa.int32()), ("ok", pa.bool_())])


def _table(seed: int, rows: int) -> pa.Table:
    frame = pl.DataFrame({
        "report_id": [f"r{seed}-{i // 7}" for i in range(rows)],
        "row": [None if i % 5 == 0 else f"row_{(i * seed) % 13}" for i in range(rows)],
        "value": [None if i % 4 == 0 else i * 1.5 + seed for i in range(rows)],
        "line": [i + seed for i in range(rows)],
        "ok": [i % 3 == 0 for i in range(rows)],
    })
    return frame.to_arrow().cast(SCHEMA)


def _one_writer(tables: list[pa.Table]) -> bytes:
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, SCHEMA, **parquet_parts.PARQUET_OPTIONS) as writer:
        for table in tables:
            writer.write_table(table)
    return buffer.getvalue()


def _assembled(tmp_path, parts: list[bytes]) -> bytes:
    target = PartsFile(tmp_path / "out.parquet", SCHEMA)
    for part in parts:
        target.append(part)
    target.close()
    return (tmp_path / "out.parquet").read_bytes()


@pytest.mark.parametrize("sizes", [[3000, 1, 250], [40] * 18, []], ids=["mixed", "many-row-groups", "none"])
def test_parts_assembled_give_the_bytes_of_one_writer_and_read_back_the_same_rows(tmp_path, sizes):
    tables = [_table(seed, rows) for seed, rows in enumerate(sizes, start=1)]
    assembled = _assembled(tmp_path, [encode(table, SCHEMA) for table in tables])
    assert assembled == _one_writer(tables)
    read = pq.read_table(io.BytesIO(assembled))
    assert read.num_rows == sum(sizes)
    assert pq.ParquetFile(io.BytesIO(assembled)).metadata.num_row_groups == len(sizes)
    if tables:
        assert read.equals(pa.concat_tables(tables))


def test_a_part_of_several_row_groups_keeps_them_all_in_place(tmp_path):
    big = _table(7, 2500)
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, SCHEMA, **parquet_parts.PARQUET_OPTIONS) as writer:
        writer.write_table(big, row_group_size=1000)
    part = buffer.getvalue()
    assembled = _assembled(tmp_path, [encode(_table(1, 10), SCHEMA), part])
    groups = pq.ParquetFile(io.BytesIO(assembled)).metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [10, 1000, 1000, 500]
    assert pq.read_table(io.BytesIO(assembled)).slice(10).equals(big)


def test_the_thrift_codec_writes_back_what_it_read_long_lists_far_field_ids_and_bools():
    fields = [[1, 5, -3], [2, 1, True], [3, 2, False], [40, 8, b"x" * 200], [41, 9, (5, list(range(-20, 20)))],
              [42, 12, [[1, 6, 2**40], [20, 11, (8, 5, [(b"k", 7)])]]], [300, 4, 12]]
    encoded = bytearray()
    write_struct(encoded, fields)
    back, end = read_struct(bytes(encoded))
    assert end == len(encoded)
    again = bytearray()
    write_struct(again, back)
    assert again == encoded
    assert back[1] == [2, 1, True] and back[2] == [3, 2, False] and back[-1] == [300, 4, 12]


def test_a_part_that_is_not_parquet_is_refused(tmp_path):
    target = PartsFile(tmp_path / "out.parquet", SCHEMA)
    with pytest.raises(ValueError, match="not a Parquet file"):
        target.append(b"PAR1 not really")
    target.close()


@pytest.mark.parametrize("resume_after", [0, 1, 2, 3])
def test_a_file_resumed_from_an_earlier_ones_mark_gives_the_bytes_of_one_writer(tmp_path, resume_after):
    tables = [_table(seed, rows) for seed, rows in enumerate([300, 20, 4000, 7], start=1)]
    parts = [encode(table, SCHEMA) for table in tables]
    earlier = PartsFile(tmp_path / "earlier.parquet", SCHEMA)
    marks = [earlier.mark()]
    for part in parts[:3]:
        earlier.append(part)
        marks.append(earlier.mark())
    earlier.close()
    resumed = PartsFile(tmp_path / "resumed.parquet", SCHEMA)
    resumed.resume(tmp_path / "earlier.parquet", marks[resume_after], earlier.groups_at, earlier.group_sizes)
    for part in parts[resume_after:]:  # the earlier file's parts after the mark, then one more
        resumed.append(part)
    resumed.close()
    assert (tmp_path / "resumed.parquet").read_bytes() == _one_writer(tables)
    assert resumed.mark() == [len(_one_writer(tables)) - 8 - int.from_bytes(_one_writer(tables)[-8:-4], "little"),
                              4, sum(t.num_rows for t in tables)]


def test_a_file_that_is_not_what_its_layout_says_is_not_resumed_and_nothing_is_written(tmp_path):
    tables = [_table(seed, 50) for seed in (1, 2)]
    earlier = PartsFile(tmp_path / "earlier.parquet", SCHEMA)
    earlier.append(encode(tables[0], SCHEMA))
    mark = earlier.mark()
    earlier.append(encode(tables[1], SCHEMA))
    earlier.close()
    resumed = PartsFile(tmp_path / "resumed.parquet", SCHEMA)
    with pytest.raises(ValueError):
        resumed.resume(tmp_path / "earlier.parquet", mark, earlier.groups_at + 1, earlier.group_sizes)
    (tmp_path / "earlier.parquet").write_bytes(b"PAR1")  # cut short
    with pytest.raises(ValueError):
        resumed.resume(tmp_path / "earlier.parquet", mark, earlier.groups_at, earlier.group_sizes)
    for table in tables:
        resumed.append(encode(table, SCHEMA))
    resumed.close()
    assert (tmp_path / "resumed.parquet").read_bytes() == _one_writer(tables)
