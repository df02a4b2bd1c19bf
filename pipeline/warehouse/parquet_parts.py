"""One Parquet file from parts encoded apart: a batch's rows are encoded once (and cached), and a
rebuild copies the encoded row groups into the new file instead of decoding and encoding them again.

A part is a whole Parquet file of one or more row groups, written by pyarrow with the dataset's
schema and options (:func:`encode`). The column chunks of a row group hold no file positions, so a
part's bytes between its leading ``PAR1`` and its footer can be copied as they are; only the footer
(Thrift compact protocol) names positions, and :class:`PartsFile` moves them by where the part landed.
The result is byte for byte the file one ``pyarrow.parquet.ParquetWriter`` writes when it is given the
same tables one after the other (tests/test_parquet_parts.py checks it), so cached and clean builds
still give the same bytes. pyarrow has no call that appends encoded row groups, hence the small codec.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MAGIC = b"PAR1"

# Thrift compact protocol type codes
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)

# Field ids of the Parquet footer (parquet.thrift) that this module reads or rewrites
FILE_NUM_ROWS, FILE_ROW_GROUPS = 3, 4
GROUP_COLUMNS, GROUP_FILE_OFFSET, GROUP_ORDINAL = 1, 5, 7
CHUNK_META = 3
CHUNK_POSITIONS = (2, 4, 6)  # file_offset, offset_index_offset, column_index_offset
META_POSITIONS = (9, 10, 11, 14)  # data_page, index_page, dictionary_page, bloom_filter offsets

# A Thrift struct as read: [field id, type code, value] in the order written, so it is written back
# to the same bytes. A bool field keeps its value in the list; container bools are raw bytes.
Struct = list


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _read_value(data: bytes, pos: int, kind: int):
    if kind in (_TRUE, _FALSE, _BYTE):
        return data[pos], pos + 1
    if kind in (_I16, _I32, _I64):
        n, pos = _read_varint(data, pos)
        return (n >> 1) ^ -(n & 1), pos
    if kind == _DOUBLE:
        return data[pos:pos + 8], pos + 8
    if kind == _BINARY:
        n, pos = _read_varint(data, pos)
        return data[pos:pos + n], pos + n
    if kind in (_LIST, _SET):
        header = data[pos]
        pos += 1
        size, item_kind = header >> 4, header & 0x0F
        if size == 15:
            size, pos = _read_varint(data, pos)
        items = []
        for _ in range(size):
            item, pos = _read_value(data, pos, item_kind)
            items.append(item)
        return (item_kind, items), pos
    if kind == _MAP:
        size, pos = _read_varint(data, pos)
        if not size:
            return (0, 0, []), pos
        key_kind, value_kind = data[pos] >> 4, data[pos] & 0x0F
        pos += 1
        pairs = []
        for _ in range(size):
            key, pos = _read_value(data, pos, key_kind)
            value, pos = _read_value(data, pos, value_kind)
            pairs.append((key, value))
        return (key_kind, value_kind, pairs), pos
    if kind == _STRUCT:
        return read_struct(data, pos)
    raise ValueError(f"not a Thrift compact type: {kind}")


def read_struct(data: bytes, pos: int = 0) -> tuple[Struct, int]:
    """A Thrift compact struct at ``pos``: (its fields, the position after it)."""
    fields, last = [], 0
    while True:
        header = data[pos]
        pos += 1
        if header == _STOP:
            return fields, pos
        delta, kind = header >> 4, header & 0x0F
        if delta:
            field_id = last + delta
        else:
            n, pos = _read_varint(data, pos)
            field_id = (n >> 1) ^ -(n & 1)
        if kind in (_TRUE, _FALSE):
            value = kind == _TRUE
        else:
            value, pos = _read_value(data, pos, kind)
        fields.append([field_id, kind, value])
        last = field_id


def _write_varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _write_list_header(out: bytearray, item_kind: int, size: int) -> None:
    if size < 15:
        out.append((size << 4) | item_kind)
    else:
        out.append(0xF0 | item_kind)
        _write_varint(out, size)


def _write_value(out: bytearray, kind: int, value) -> None:
    if kind in (_TRUE, _FALSE, _BYTE):
        out.append(value)
    elif kind in (_I16, _I32, _I64):
        _write_varint(out, (value << 1) ^ (value >> 63))
    elif kind == _DOUBLE:
        out += value
    elif kind == _BINARY:
        _write_varint(out, len(value))
        out += value
    elif kind in (_LIST, _SET):
        item_kind, items = value
        _write_list_header(out, item_kind, len(items))
        for item in items:
            _write_value(out, item_kind, item)
    elif kind == _MAP:
        key_kind, value_kind, pairs = value
        _write_varint(out, len(pairs))
        if pairs:
            out.append((key_kind << 4) | value_kind)
            for key, item in pairs:
                _write_value(out, key_kind, key)
                _write_value(out, value_kind, item)
    elif kind == _STRUCT:
        write_struct(out, value)
    else:
        raise ValueError(f"not a Thrift compact type: {kind}")


def _write_field_header(out: bytearray, field_id: int, last: int, kind: int) -> None:
    """The header of a struct's field whose previous field was ``last``."""
    if 0 < field_id - last <= 15:
        out.append(((field_id - last) << 4) | kind)
    else:
        out.append(kind)
        _write_varint(out, (field_id << 1) ^ (field_id >> 63))


def _write_field(out: bytearray, field_id: int, last: int, kind: int, value) -> None:
    if kind in (_TRUE, _FALSE):  # a bool field's value is its type code
        _write_field_header(out, field_id, last, _TRUE if value else _FALSE)
    else:
        _write_field_header(out, field_id, last, kind)
        _write_value(out, kind, value)


def write_struct(out: bytearray, fields: Struct) -> None:
    last = 0
    for field_id, kind, value in fields:
        _write_field(out, field_id, last, kind, value)
        last = field_id
    out.append(_STOP)


def _field(fields: Struct, field_id: int) -> list | None:
    return next((field for field in fields if field[0] == field_id), None)


def _moved(fields: Struct, positions: tuple[int, ...], shift: int) -> Struct:
    # 0 is never a position (the file starts with PAR1): it marks a field the writer leaves unset
    return [[i, kind, value + shift if i in positions and value else value] for i, kind, value in fields]


def _moved_row_group(group: Struct, shift: int, ordinal: int) -> Struct:
    moved = []
    for field_id, kind, value in _moved(group, (GROUP_FILE_OFFSET,), shift):
        if field_id == GROUP_ORDINAL:
            value = ordinal
        elif field_id == GROUP_COLUMNS:
            chunks = []
            for chunk in value[1]:
                chunk = _moved(chunk, CHUNK_POSITIONS, shift)
                meta = _field(chunk, CHUNK_META)
                if meta is not None:
                    meta[2] = _moved(meta[2], META_POSITIONS, shift)
                chunks.append(chunk)
            value = (value[0], chunks)
        moved.append([field_id, kind, value])
    return moved


def _footer(data: bytes) -> tuple[Struct, int]:
    """The file metadata of a whole Parquet file, and where the footer starts."""
    if data[:4] != MAGIC or data[-4:] != MAGIC:
        raise ValueError("not a Parquet file")
    length = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - length
    return read_struct(data[start:len(data) - 8])[0], start


PARQUET_OPTIONS = {"compression": "zstd", "write_statistics": True}


def encode(table: pa.Table | None, schema: pa.Schema) -> bytes:
    """A whole Parquet file of ``table`` (None: no row group), with the dataset's options."""
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, schema, **PARQUET_OPTIONS) as writer:
        if table is not None:
            writer.write_table(table)
    return buffer.getvalue()


def encoding_tag(schema: pa.Schema) -> str:
    """Names how parts of ``schema`` are encoded here (schema, options, pyarrow's version): a part
    kept from an encoding that differs must not be copied, so callers file parts under this tag."""
    return hashlib.sha256(encode(None, schema) + repr(sorted(PARQUET_OPTIONS.items())).encode()).hexdigest()[:12]


def _copy(source, target, length: int) -> None:
    """``length`` bytes from ``source``'s position to ``target``'s (raw files), in the kernel where it can."""
    while length > 0:
        try:
            copied = os.copy_file_range(source.fileno(), target.fileno(), length)
        except (AttributeError, OSError):  # not on this system or between these file systems
            copied = target.write(source.read(min(length, 1 << 24)))
            target.flush()
        if not copied:
            raise ValueError("the file ends early")
        length -= copied
    target.seek(0, os.SEEK_END)


class PartsFile:
    """Writes one Parquet file from parts (:func:`encode` with this schema), streamed to disk: the
    parts' row groups in the order given, then one footer."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self._empty = encode(None, schema)  # its footer is the file's, less the rows and row groups
        self._file = open(path, "wb")
        self._file.write(MAGIC)
        self._at = len(MAGIC)
        # each row group's footer entry, already encoded: a few hundred bytes where the parsed
        # entry would hold thousands of small objects per column
        self._groups: list[bytes] = []
        self._rows = 0
        # once closed: where the footer's row group entries start, and each entry's length
        self.groups_at: int | None = None
        self.group_sizes: list[int] = []

    def mark(self) -> list[int]:
        """Where the file stands: [bytes written, row groups, rows], a place ``resume`` can start from."""
        return [self._at, len(self._groups), self._rows]

    def resume(self, source: Path, mark: list[int], groups_at: int, group_sizes: list[int]) -> None:
        """Start as ``source`` (a file of this class, closed with ``groups_at`` and ``group_sizes``)
        stood at ``mark``: its bytes up to there are copied and its first row groups' footer entries
        taken as they are, without parsing a part again. :class:`ValueError` when ``source`` does not
        hold what they say, or cannot be copied (nothing written then)."""
        at, groups, rows = mark
        if self._at != len(MAGIC) or self._groups:
            raise ValueError("a file resumes before anything is appended")
        try:
            with open(source, "rb", buffering=0) as f:
                f.seek(groups_at)
                entries = f.read(sum(group_sizes[:groups]))
                if (len(entries) != sum(group_sizes[:groups]) or at > groups_at
                        or (groups and read_struct(entries)[1] != group_sizes[0])):
                    raise ValueError(f"{source} is not the file its layout describes")
                self._file.flush()
                f.seek(len(MAGIC))
                _copy(f, self._file, at - len(MAGIC))
        except (OSError, ValueError, IndexError) as exc:
            self.reset()
            raise ValueError(f"cannot resume from {source}: {exc}") from exc
        starts = [0]
        for size in group_sizes[:groups]:
            starts.append(starts[-1] + size)
        self._groups = [entries[starts[i]:starts[i + 1]] for i in range(groups)]
        self._at, self._rows = at, rows

    def reset(self) -> None:
        """Back to an empty file (after a ``resume``, before any ``append``)."""
        self._file.seek(len(MAGIC))
        self._file.truncate()
        self._at, self._groups, self._rows = len(MAGIC), [], 0

    def append(self, part: bytes) -> None:
        meta, footer_start = _footer(part)
        shift = self._at - len(MAGIC)
        self._file.write(memoryview(part)[len(MAGIC):footer_start])
        self._at += footer_start - len(MAGIC)
        for group in _field(meta, FILE_ROW_GROUPS)[2][1]:
            encoded = bytearray()
            write_struct(encoded, _moved_row_group(group, shift, len(self._groups)))
            self._groups.append(bytes(encoded))
        self._rows += _field(meta, FILE_NUM_ROWS)[2]

    def close(self) -> None:
        if self._file.closed:
            return
        footer, last = bytearray(), 0
        for field_id, kind, value in _footer(self._empty)[0]:
            if field_id == FILE_ROW_GROUPS:  # a list whose items were encoded by append
                _write_field_header(footer, field_id, last, _LIST)
                _write_list_header(footer, _STRUCT, len(self._groups))
                self.groups_at = self._at + len(footer)
                self.group_sizes = [len(group) for group in self._groups]
                footer += b"".join(self._groups)
            else:
                _write_field(footer, field_id, last, kind, self._rows if field_id == FILE_NUM_ROWS else value)
            last = field_id
        footer.append(_STOP)
        self._file.write(footer + len(footer).to_bytes(4, "little") + MAGIC)
        self._file.close()
