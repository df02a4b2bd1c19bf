"""The report's prose: its text outside the three tables, line by line.

What a reviewer reads against the tables (the numbers the prose states), checks for its parts, and
compares with last year's report. The tables are cut out by the positions :mod:`locate` found: from the
first table's anchor to section 五 (or the end), so that a page flattened into one line still gives its
prose before and after the tables.
"""

from __future__ import annotations

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
    for index, cell in enumerate(stream.cells):
        begin = stream.cell_starts[index]
        end = begin + len(cell.text)
        pieces = [(begin, min(end, cut[0])), (max(begin, cut[1]), end)]
        text = "".join(cell.text[a - begin:b - begin] for a, b in pieces if b > a)
        if text.strip():
            out.append(ProseLine(cell.line, text))
    return out
