"""The report's prose: its text outside the three tables, line by line.

What a reviewer reads against the tables (the numbers the prose states), checks for its parts, and
compares with last year's report. The tables are cut out by the positions :mod:`locate` found: from the
first table's anchor to section 五 (or the end), so that a page flattened into one line still gives its
prose before and after the tables.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from pipeline.extract.locate import TableRegions
from pipeline.extract.stream import Stream


class ProseLine(NamedTuple):
    line: int  # 1-based line (or page) in the source
    text: str  # normalized text


def prose_lines(before: list, stream: Stream, regions: TableRegions) -> list[ProseLine]:
    """``before``: the document's cells ahead of the stream; the stream's text outside the tables."""
    out = [ProseLine(c.line, c.text) for c in before if c.text.strip()]
    starts = [m.start() for m in (regions.proactive_anchor, regions.first_request, regions.appeals_heading) if m]
    if regions.requests_start is not None:
        starts.append(regions.requests_start)
    if not starts:
        cut = (len(stream.spaced), len(stream.spaced))
    else:
        cut = (stream.to_spaced(min(starts)), stream.to_spaced(regions.end_of_tables)
               if regions.end_of_tables < len(stream.compact) else len(stream.spaced))
    # the cells lie one after another in the spaced text: only the two holding the cuts are cut; those
    # between them are table text
    starts, cells = stream.cell_starts, stream.cells
    if not cells:
        return out
    holding = [max(bisect_right(starts, position) - 1, 0) for position in cut]
    out.extend(ProseLine(cell.line, cell.text) for cell in cells[:holding[0]] if cell.text.strip())
    for index in sorted(set(holding)):
        cell, begin = cells[index], starts[index]
        end = begin + len(cell.text)
        pieces = [(begin, min(end, cut[0])), (max(begin, cut[1]), end)]
        text = "".join(cell.text[a - begin:b - begin] for a, b in pieces if b > a)
        if text.strip():
            out.append(ProseLine(cell.line, text))
    out.extend(ProseLine(cell.line, cell.text) for cell in cells[holding[1] + 1:] if cell.text.strip())
    return out
