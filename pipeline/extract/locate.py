"""Where the three tables are in the document's stream, found by their labels, never by position.

Table 2 starts at its first block caption (``第二十条第(一)项``) or its section heading; Table 3 at its
first row label (one followed closely by the second row's label) or the heading, note or header just
before it; Table 4 at its heading (or its first header words) after Table 3's first row; everything
ends at section 五. The labels are those of ``knowledge/data/labels.csv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.extract.stream import Stream
from pipeline.knowledge import domain

_ROW_ONE_TO_TWO = 400  # compact characters between Table 3's first and second row labels
_WINDOW_MARGIN = 3  # cells kept before the first table marker


@dataclass(frozen=True)
class TableRegions:
    """Compact-stream positions of the tables; a table not found has its anchor None."""

    proactive_anchor: re.Match | None  # Table 2's first caption or heading
    first_request: re.Match | None  # Table 3's first row label
    requests_start: int | None  # Table 3's heading, note or header, else its first row
    appeals_heading: re.Match | None
    proactive_end: int
    requests_end: int
    end_of_tables: int  # section 五, or the end of the stream


def table_window(cells: list) -> list:
    """The cells from a little before the first table marker (labels.csv, kind marker) to the end:
    the prose before the tables is skipped cheaply; the tables themselves are found by their labels."""
    markers = domain.labels("report", "marker")
    start = next((i for i, c in enumerate(cells) if any(m.regex.search(c.text) for m in markers)), None)
    return cells if start is None else cells[max(0, start - _WINDOW_MARGIN):]


def first_match(stream: Stream, labels, start: int = 0, end: int | None = None) -> re.Match | None:
    """The first match of the first label (in file order) that matches at all."""
    for lab in labels:
        m = stream.search(lab.regex, start, end)
        if m is not None:
            return m
    return None


def _last_match(stream: Stream, label, start: int, end: int) -> re.Match | None:
    last = None
    for m in label.regex.finditer(stream.compact, start, end):
        last = m
    return last


def _table3_first_row(stream: Stream, start: int) -> re.Match | None:
    """Table 3's first row label: one followed closely by the second row's label, so that prose such
    as 本年新收政府信息公开申请21件 in section 一 is not taken for the table."""
    first_row, second_row = domain.layout(domain.LATEST_TEMPLATE, "requests")[:2]
    first = domain.label("requests", "row", first_row.code).regex
    second = domain.label("requests", "row", second_row.code).regex
    fallback = None
    for m in first.finditer(stream.compact, start):
        fallback = fallback or m
        if second.search(stream.compact, m.end(), m.end() + _ROW_ONE_TO_TWO):
            return m
    return fallback


def locate_tables(stream: Stream) -> TableRegions:
    n = len(stream.compact)
    proactive_anchor = first_match(stream, domain.labels("proactive", "anchor"))
    after_proactive = proactive_anchor.end() if proactive_anchor else 0
    first_request = _table3_first_row(stream, after_proactive)
    if first_request is None and proactive_anchor is not None:
        first_request = _table3_first_row(stream, 0)
    requests_start = None
    if first_request is not None:
        requests_start = first_request.start()
        search_from = after_proactive if after_proactive < first_request.start() else 0
        for lab in domain.labels("requests", "anchor"):  # heading, rule note, applicant header
            m = _last_match(stream, lab, search_from, first_request.start())
            if m is not None:
                requests_start = min(requests_start, m.start())
                break
    appeals_from = first_request.end() if first_request else after_proactive
    appeals_heading = first_match(stream, domain.labels("appeals", "anchor"), appeals_from)
    section5 = stream.search(domain.label("report", "anchor", "section5").regex,
                             appeals_heading.end() if appeals_heading else appeals_from)
    end_of_tables = section5.start() if section5 else n
    after_appeals = appeals_heading.start() if appeals_heading else end_of_tables
    proactive_end = requests_start if (requests_start is not None and proactive_anchor is not None
                                       and requests_start > proactive_anchor.start()) else after_appeals
    return TableRegions(proactive_anchor, first_request, requests_start, appeals_heading, proactive_end,
                        after_appeals, end_of_tables)
