"""Find the three statistical tables in a document, decide their template, read their rows.

Tables are located by their labels, never by position: Table 2 starts at its first block caption
(``第二十条第(一)项``), Table 3 at its heading (or its first row label), Table 4 at its heading after
Table 3's last row, and everything ends at section 五. Data rows are searched in the template's order,
each label once; the numbers of a row are the value tokens between its label and the next label of
any kind. Which number goes to which column is decided in :mod:`pipeline.extract.align`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from pipeline.knowledge import domain
from pipeline.extract.align import Alignment, Reading, align, readings_from_candidates
from pipeline.knowledge.domain import Column, Row
from pipeline.ingest.readers import Document
from pipeline.extract.stream import Stream, Token, parse_number

_TAIL_STOP = re.compile(r"[:;。：；]")
_ENUMERATOR = re.compile(r"[一二三四五六七八九十]+")
_VALUE_START = re.compile(r"[0-9+\-—–―─/／\\]")
_MAX_TAIL = 40
RUN_TOGETHER_LABELS = 3
_DIGIT = re.compile(r"\d")
_FIRST_VALUE = re.compile(r"[0-9]")


@dataclass
class RowReading:
    code: str
    alignment: Alignment
    label_line: int | None
    tokens: list[Token] = field(default_factory=list)  # the values printed after the label, as read


@dataclass
class TableReading:
    section: str
    found: bool
    template: str | None = None
    rows: dict[str, RowReading] = field(default_factory=dict)
    missing_rows: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Tables:
    proactive: TableReading
    requests: TableReading
    appeals: TableReading
    template: str | None
    run_together: bool
    notes: list[str] = field(default_factory=list)

    def all(self) -> tuple[TableReading, TableReading, TableReading]:
        return (self.proactive, self.requests, self.appeals)


def _skip_label_tail(compact: str, pos: int, limit: int) -> int:
    """Skip the rest of a label after its matched prefix: ``相关政府信息``, ``(本单位制发的)``, quotes.

    Stops at the first character that can start a value, at a clause mark (a note, not a label), at
    an enumerator like ``(七)`` (the next row), or after a few characters.
    """
    start = pos
    while pos < limit and pos - start < _MAX_TAIL:
        ch = compact[pos]
        if ch == "(":
            close = compact.find(")", pos, min(limit, pos + 80))
            inner = compact[pos + 1 : close] if close != -1 else ""
            if close != -1 and _ENUMERATOR.fullmatch(inner):
                break  # (七): the next row's label
            if close != -1 and not _DIGIT.search(inner):
                pos = close + 1  # a whole explanation in brackets
                continue
            pos += 1  # an opening bracket whose text is cut by the values (PDF line breaks)
            continue
        if _VALUE_START.match(ch) or _TAIL_STOP.match(ch) or ch == "无":
            break
        pos += 1
    return pos


class _TableParser:
    """Reads the data rows of one table region of the stream."""

    def __init__(self, stream: Stream, start: int, end: int):
        self.stream = stream
        self.start = start
        self.end = end
        self.boundaries: list[int] = []

    def add_boundaries(self, patterns) -> None:
        for pattern in patterns:
            for m in pattern.finditer(self.stream.compact, self.start, self.end):
                self.boundaries.append(m.start())

    def find_rows(self, rows: tuple[Row, ...], section: str, template: str) -> dict[str, re.Match]:
        """Each row's label, searched in printed order from the end of the previous one."""
        found: dict[str, re.Match] = {}
        pos = self.start
        for row in rows:
            lab = domain.label(section, "row", row.code, template)
            if lab is None:
                continue
            m = self.stream.search(lab.regex, pos, self.end)
            if m:
                found[row.code] = m
                pos = m.end()
        for m in found.values():
            self.boundaries.append(m.start())
        self.boundaries.sort()
        return found

    def value_span(self, label: re.Match) -> tuple[int, int]:
        i = bisect.bisect_right(self.boundaries, label.start())
        while i < len(self.boundaries) and self.boundaries[i] < label.end():
            i += 1
        next_start = self.boundaries[i] if i < len(self.boundaries) else self.end
        begin = _skip_label_tail(self.stream.compact, label.end(), next_start)
        return begin, next_start

    def run_together(self, found: dict[str, re.Match]) -> bool:
        """Flattened text: many row labels inside one cell, where numbers may have no separators.

        Two labels on one line happen in PDF dumps whose numbers are separated; splitting digit runs
        there would invent cells, so it takes three.
        """
        cells = Counter(self.stream.cell_of(m.start()) for m in found.values())
        return bool(cells) and max(cells.values()) >= RUN_TOGETHER_LABELS

    def reorder_by_lines(self, rows: dict[str, RowReading], found: dict[str, re.Match],
                         columns: dict[str, tuple[Column, ...]]) -> list[str]:
        """PDF text dumps put some rows' numbers on the line *before* their (multi-line) label.

        When the table holds exactly one line of values per row label, each line as wide as its row,
        the k-th line belongs to the k-th label: that order is what the page shows. Rows are then read
        from their line; a row whose label-following reading disagrees becomes ambiguous. Returns the
        codes of the rows changed.
        """
        codes = list(found)  # in printed order
        if not codes or all(r.status != "ambiguous" for code in codes for r in rows[code].alignment.readings):
            return []  # every row read after its label: nothing for the line order to settle
        groups = self.stream.value_groups(found[codes[0]].start(), self.end)
        if len(groups) != len(codes) or any(len(g) != len(columns[c]) for g, c in zip(groups, codes)):
            return []
        changed = []
        for code, group in zip(codes, groups):
            by_line = align(group, columns[code], run_together=False)
            current = rows[code].alignment.readings
            same = all(
                (a.status, a.value) == (b.status, b.value) for a, b in zip(current, by_line.readings)
            )
            if same:
                continue
            conflict = any(a.status != "ambiguous" and (a.status, a.value) != (b.status, b.value)
                           for a, b in zip(current, by_line.readings))
            if conflict:
                why = "the numbers after the label and the line order of the table disagree"
                readings = [Reading(r.col, "ambiguous", None, None, r.token, why) for r in by_line.readings]
            else:
                why = "values taken from the table's k-th line of numbers for its k-th row (PDF text order)"
                readings = [Reading(r.col, r.status, r.value, r.unit, r.token, why) for r in by_line.readings]
            rows[code] = RowReading(code, Alignment(readings), rows[code].label_line)
            changed.append(code)
        return changed

    def read_row(self, code: str, label: re.Match, columns: tuple[Column, ...], run_together: bool) -> RowReading:
        begin, stop = self.value_span(label)
        tokens, _ = self.stream.tokens(begin, stop)
        line = self.stream.cells[self.stream.cell_of(label.start())].line
        return RowReading(code, align(tokens, columns, run_together), line, tokens)


def _vote_template(stream: Stream, section: str, start: int, end: int) -> dict[str, int]:
    votes = {}
    for cue in domain.labels(section, "cue"):
        votes[cue.code] = sum(1 for _ in cue.regex.finditer(stream.compact, start, end))
    return votes


def _first(stream: Stream, section: str, kind: str, code: str, start: int = 0, end: int | None = None):
    lab = domain.label(section, kind, code)
    return stream.search(lab.regex, start, end) if lab else None


def _last(stream: Stream, section: str, kind: str, code: str, start: int, end: int):
    lab = domain.label(section, kind, code)
    last = None
    if lab:
        for m in lab.regex.finditer(stream.compact, start, end):
            last = m
    return last


_ROW_ONE_TO_TWO = 400  # compact characters between 一、本年新收 and 二、上年结转 in the table


def _table3_first_row(stream: Stream, start: int) -> re.Match | None:
    """Table 3's first row label: one followed closely by the second row's label, so that prose such
    as 本年新收政府信息公开申请21件 in section 一 is not taken for the table."""
    first = domain.label("requests", "row", "new_received").regex
    second = domain.label("requests", "row", "carried_over").regex
    fallback = None
    for m in first.finditer(stream.compact, start):
        fallback = fallback or m
        if second.search(stream.compact, m.end(), m.end() + _ROW_ONE_TO_TWO):
            return m
    return fallback


# Words printed inside the tables (captions, headers, the first row) and hardly ever in the prose
# before them. Used only to skip the prose before the tables cheaply; the tables themselves are found
# by their labels below.
_TABLE_MARKERS = ("二十条", "信息内容", "申请人情况", "本年新收")
_HEADING_MARKER, _HEADING_MAX = "主动公开政府信息情况", 30  # as a heading line, not inside the preface
_WINDOW_MARGIN = 3


def _starts_tables(text: str) -> bool:
    return any(m in text for m in _TABLE_MARKERS) or (_HEADING_MARKER in text and len(text) <= _HEADING_MAX)


def table_window(cells: list) -> list:
    """The cells from a little before the first table word to the end."""
    start = next((i for i, c in enumerate(cells) if _starts_tables(c.text)), None)
    return cells if start is None else cells[max(0, start - _WINDOW_MARGIN):]


def read_tables(doc: Document) -> Tables:
    stream = Stream(table_window(doc.cells))
    n = len(stream.compact)

    t2_anchor = _first(stream, "proactive", "anchor", "start") or _first(stream, "proactive", "anchor", "heading")
    after_t2 = t2_anchor.end() if t2_anchor else 0
    first_request = _table3_first_row(stream, after_t2)
    if first_request is None and t2_anchor is not None:
        first_request = _table3_first_row(stream, 0)
    t3_start = None
    if first_request is not None:
        t3_start = first_request.start()
        for code in ("heading", "rule_note", "applicants"):
            m = _last(stream, "requests", "anchor", code, after_t2 if after_t2 < first_request.start() else 0,
                      first_request.start())
            if m is not None:
                t3_start = min(t3_start, m.start())
                break
    t4_search_from = first_request.end() if first_request else after_t2
    t4_heading = (_first(stream, "appeals", "anchor", "heading", t4_search_from)
                  or _first(stream, "appeals", "anchor", "header", t4_search_from))
    section5 = _first(stream, "other", "anchor", "section5", t4_heading.end() if t4_heading else t4_search_from)
    end_of_tables = section5.start() if section5 else n

    # Table 2 ---------------------------------------------------------------------------------
    proactive = TableReading("proactive", found=t2_anchor is not None)
    t2_end = t3_start if (t3_start is not None and t2_anchor is not None and t3_start > t2_anchor.start()) else (
        t4_heading.start() if t4_heading else end_of_tables)
    if t2_anchor is not None:
        votes = _vote_template(stream, "proactive", t2_anchor.start(), t2_end)
        if votes.get("2019", 0) != votes.get("2021", 0):
            proactive.template = max(votes, key=votes.get)
        proactive.notes.append(f"Table 2 template cues: 2019={votes.get('2019', 0)}, 2021={votes.get('2021', 0)}")

    # Table 3 ---------------------------------------------------------------------------------
    requests = TableReading("requests", found=first_request is not None)
    t3_end = t4_heading.start() if t4_heading else end_of_tables
    has_subitems = False
    if first_request is not None:
        votes = _vote_template(stream, "requests", t3_start, t3_end)
        has_subitems = votes.get("2021", 0) > 0
        requests.template = "2021" if has_subitems else None  # a single (六) row fits both templates

    template = proactive.template or requests.template
    if template is None:  # no cue either way: the current template
        template = "2021" if first_request is not None or t2_anchor is not None else None
    notes = []
    if proactive.template and requests.found and has_subitems and proactive.template == "2019":
        notes.append("Table 2 follows the 2019 template but Table 3 has the 2021 (六) sub-items")
    hybrid = template == "2021" and requests.found and not has_subitems

    run_together = False
    t2_parser = t3_parser = None
    t2_found: dict[str, re.Match] = {}
    t3_found: dict[str, re.Match] = {}
    if t2_anchor is not None and template:
        t2_parser = _TableParser(stream, t2_anchor.start(), t2_end)
        t2_parser.add_boundaries(lab.regex for lab in domain.labels("proactive", "row"))
        t2_parser.add_boundaries(lab.regex for lab in domain.labels("proactive", "header"))
        t2_parser.add_boundaries(lab.regex for lab in domain.labels("proactive", "cue"))
        t2_found = t2_parser.find_rows(domain.layout(template, "proactive"), "proactive", template)
        run_together |= t2_parser.run_together(t2_found)
    if first_request is not None and template:
        t3_parser = _TableParser(stream, first_request.start(), t3_end)
        groups = domain.labels("requests", "group", None if has_subitems else "2019")
        t3_parser.add_boundaries(lab.regex for lab in groups if has_subitems or lab.code != "other")
        t3_parser.add_boundaries(lab.regex for lab in domain.labels("requests", "header"))
        t3_rows = domain.layout(template, "requests")
        search_rows = domain.layout("2019", "requests") if hybrid else t3_rows
        t3_found = t3_parser.find_rows(search_rows, "requests", "2019" if hybrid else template)
        run_together |= t3_parser.run_together(t3_found)

    if t2_parser is not None:
        proactive.template = template
        for row in domain.layout(template, "proactive"):
            if row.code in t2_found:
                proactive.rows[row.code] = t2_parser.read_row(row.code, t2_found[row.code], row.columns, run_together)
            else:
                proactive.missing_rows.append(row.code)
        if not run_together:
            columns = {r.code: r.columns for r in domain.layout(template, "proactive")}
            _note_reordered(proactive, t2_parser.reorder_by_lines(proactive.rows, t2_found, columns))
    if t3_parser is not None:
        requests.template = template
        for row in domain.layout(template, "requests"):
            if hybrid and row.code in ("other_no_correction", "other_unpaid_fee", "other_other"):
                continue
            if row.code in t3_found:
                reading = t3_parser.read_row(row.code, t3_found[row.code], row.columns, run_together)
                requests.rows[row.code] = resolve_with_rule(reading, "requests")
            else:
                requests.missing_rows.append(row.code)
        if hybrid:
            _read_hybrid_other(requests, t3_parser, t3_found, run_together)
        if not run_together:
            columns = {r.code: r.columns for t in domain.TEMPLATES for r in domain.layout(t, "requests")}
            _note_reordered(requests, t3_parser.reorder_by_lines(requests.rows, t3_found, columns))
            subtotal = drop_subtotal_column(requests.rows, columns)
            if subtotal:
                requests.notes.append(subtotal)
        else:
            narrowed = resolve_with_column_rules(requests.rows, template)
            if narrowed:
                requests.notes.append(f"digit runs split by the column sums (R1, R3): {', '.join(narrowed)}")

    # Table 4 ---------------------------------------------------------------------------------
    appeals = TableReading("appeals", found=t4_heading is not None)
    if t4_heading is not None and template:
        appeals.template = template
        _read_appeals(appeals, stream, t4_heading, end_of_tables, template, run_together)

    return Tables(proactive, requests, appeals, template, run_together, notes)


# Where an agency adds a 法人或其他组织 subtotal to Table 3: right after 自然人 (the group header's own
# column) or right before 总计. Index in a row of eight values.
SUBTOTAL_POSITIONS = {1: range(2, 7), 6: range(1, 6)}


def drop_subtotal_column(rows: dict[str, RowReading], columns: dict[str, tuple[Column, ...]]) -> str | None:
    """Rows of eight values where the table has seven columns: find the added subtotal column.

    A position is accepted only when, on every fully numeric eight-value row, its value equals the sum
    of the five 法人或其他组织 columns. When several positions pass, rows are read only where they all
    give the same seven cells.
    """
    wide = {code: [t for t in r.tokens if t.kind != "empty"] for code, r in rows.items()}
    wide = {code: toks for code, toks in wide.items() if len(toks) == 8}
    if len(wide) < max(3, len(rows) // 2):
        return None
    numbers = {code: [parse_number(t.text)[0] if t.kind == "num" else None for t in toks]
               for code, toks in wide.items()}
    complete = [v for v in numbers.values() if all(x is not None for x in v)]
    if not complete:
        return None
    holds = [p for p, parts in SUBTOTAL_POSITIONS.items()
             if all(abs(v[p] - sum(v[i] for i in parts)) < 1e-6 for v in complete)]
    if not holds:
        return None
    for code, toks in wide.items():
        projections = [toks[:p] + toks[p + 1:] for p in holds]
        if len({tuple(t.text for t in proj) for proj in projections}) == 1:
            alignment = align(projections[0], columns[code], run_together=False)
            why = "eight values: the added 法人或其他组织 subtotal column was checked and left out"
            readings = [Reading(r.col, r.status, r.value, r.unit, r.token, why) for r in alignment.readings]
        else:
            why = "eight values and the position of the added subtotal column is not certain for this row"
            readings = [Reading(c.code, "ambiguous", None, None, None, why) for c in columns[code]]
        rows[code] = RowReading(code, Alignment(readings), rows[code].label_line, rows[code].tokens)
    where = " or ".join("after 自然人" if p == 1 else "before 总计" for p in holds)
    return f"Table 3 has an added 法人或其他组织 subtotal column ({where}); it equals the sum of its five columns"


def _note_reordered(table: TableReading, changed: list[str]) -> None:
    if changed:
        table.notes.append(f"rows read by line order (numbers printed before their labels): {', '.join(changed)}")


def _read_hybrid_other(requests: TableReading, parser: _TableParser, found, run_together: bool) -> None:
    """A 2021 report whose Table 3 prints the 2019-style single (六) row: keep that row as printed;
    the three 2021 sub-rows are not in the text."""
    columns = next(r.columns for r in domain.layout("2019", "requests") if r.code == "other_processing")
    if "other_processing" in found:
        requests.rows["other_processing"] = resolve_with_rule(
            parser.read_row("other_processing", found["other_processing"], columns, run_together), "requests")
    else:
        requests.missing_rows.append("other_processing")
    why = "Table 3 prints the 2019-style single (六)其他处理 row; the 2021 sub-items are not printed"
    for code in ("other_no_correction", "other_unpaid_fee", "other_other"):
        requests.rows[code] = RowReading(
            code, Alignment([Reading(c.code, "ambiguous", None, None, None, why) for c in columns]), None)
    requests.notes.append(why)


_HEADER_GAP = re.compile(r"[,;:、]+")  # separators between header words (CSV rows)


def _skip_header_words(compact: str, header: re.Pattern, pos: int, end: int) -> int:
    while True:
        gap = _HEADER_GAP.match(compact, pos, end)
        m = header.match(compact, gap.end() if gap else pos, end)
        if not m or m.end() == pos:
            return pos
        pos = m.end()


def _read_appeals(appeals: TableReading, stream: Stream, heading: re.Match, end: int, template: str,
                  run_together: bool) -> None:
    header = domain.labels("appeals", "header")[0].regex
    pos = _skip_header_words(stream.compact, header, heading.end(), end)
    # Header text the pattern does not know (an annotation, a note on the source) is skipped up to the
    # first value, as long as it holds no digits that could be mistaken for one.
    at_value = pos < end and _VALUE_START.match(stream.compact, pos)
    first_value = None if at_value else _FIRST_VALUE.search(stream.compact, pos, end)
    if first_value and first_value.start() - pos <= _MAX_TAIL:
        pos = first_value.start()
    rows = domain.layout(template, "appeals")
    columns = tuple(Column(f"{row.code}/{c.code}", c.unit, c.signed, c.money) for row in rows for c in row.columns)
    tokens: list = []
    start = pos
    while True:
        found, stop = stream.tokens(start, end)
        tokens += found
        if stop is None or sum(t.kind != "empty" for t in tokens) >= len(columns):
            break
        # Table 4 printed in parts (行政复议, then 行政诉讼 with its own header): skip the header words
        resume = _skip_header_words(stream.compact, header, stop, end)
        if resume == stop:
            break
        start = resume
    alignment = resolve_with_rule(align(tokens, columns, run_together), "appeals")
    line = stream.cells[stream.cell_of(min(pos, len(stream.compact) - 1))].line if stream.compact else None
    by_row: dict[str, list[Reading]] = {row.code: [] for row in rows}
    for reading in alignment.readings:
        row_code, col_code = reading.col.split("/")
        by_row[row_code].append(Reading(col_code, reading.status, reading.value, reading.unit, reading.token,
                                        reading.evidence))
    for row in rows:
        appeals.rows[row.code] = RowReading(row.code, Alignment(by_row[row.code]), line)


def resolve_with_rule(reading, section: str):
    """Narrow an ambiguous run-together split with the table's own row sums (R2 / R4).

    Only candidates under which the row's printed total equals the sum of its parts survive; a cell
    becomes determined when all survivors agree on it. If no candidate satisfies the rule (the source
    itself breaks it), nothing is narrowed.
    """
    alignment = reading.alignment if isinstance(reading, RowReading) else reading
    if not alignment.candidates or len(alignment.candidates) < 2:
        return reading
    rules = [r for r in domain.sum_rules() if r.section == section and r.axis == "row" and r.is_identity]
    if not rules:
        return reading
    rule = rules[0]
    codes = [r.col for r in alignment.readings]
    groups = _row_groups(codes)

    def satisfies(candidate: tuple[str, ...]) -> bool:
        for prefix, positions in groups.items():
            values = {}
            for pos in positions:
                code = codes[pos].split("/")[-1]
                text = candidate[pos]
                if text == "":
                    return False
                values[code] = float(text.replace(",", ""))
            if any(c not in values for c in rule.lhs_codes + rule.rhs_codes):
                return False
            if abs(sum(values[c] for c in rule.lhs_codes) - sum(values[c] for c in rule.rhs_codes)) > 1e-6:
                return False
        return True

    keep = [i for i, cand in enumerate(alignment.candidates) if satisfies(cand)]
    if not keep or len(keep) == len(alignment.candidates):
        return reading
    candidates = [alignment.candidates[i] for i in keep]
    sources = [alignment.sources[i] for i in keep]
    columns = tuple(Column(code, "", False, False) for code in codes)
    readings = readings_from_candidates(candidates, sources, alignment.tokens, columns)
    why = f"{rule.rule} holds for {len(candidates)} of the {len(alignment.candidates)} ways to split the run"
    readings = [
        Reading(new.col, new.status, new.value, new.unit, new.token, why)
        if old.status == "ambiguous" and new.status == "reported" else new
        for old, new in zip(alignment.readings, readings)
    ]
    narrowed = Alignment(readings, candidates, alignment.tokens, sources)
    if isinstance(reading, RowReading):
        return RowReading(reading.code, narrowed, reading.label_line)
    return narrowed


def _row_groups(codes: list[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        prefix = code.split("/")[0] if "/" in code else ""
        groups.setdefault(prefix, []).append(i)
    return groups


MAX_COMBINATIONS = 200_000


def _expand_terms(terms: tuple[str, ...], template: str) -> list[str]:
    """Replace a derived row (2021 other_processing) by the rows it sums."""
    out = []
    for term in terms:
        derived = [d for d in domain.derived_sums() if d.row == term and d.template == template]
        out.extend(derived[0].terms if derived else [term])
    return out


def resolve_with_column_rules(rows: dict[str, RowReading], template: str) -> list[str]:
    """Narrow the still-ambiguous digit-run rows of Table 3 with the per-column rules R1 and R3.

    Every combination of the open rows' candidate splits is tried; combinations under which some
    assessable column rule fails are dropped. If no combination survives (the source breaks its own
    sums), nothing changes. A cell is determined when all survivors agree on it.
    """
    open_rows = [code for code, r in rows.items()
                 if r.alignment.candidates and len(r.alignment.candidates) > 1
                 and any(x.status == "ambiguous" for x in r.alignment.readings)]
    if not open_rows:
        return []
    total = 1
    for code in open_rows:
        total *= len(rows[code].alignment.candidates)
    if total > MAX_COMBINATIONS:
        return []
    known: dict[str, list[float | None]] = {}
    for code, r in rows.items():
        if code not in open_rows:
            known[code] = [x.value if x.status == "reported" else None for x in r.alignment.readings]
    rules = [(_expand_terms(rule.lhs_codes, template), _expand_terms(rule.rhs_codes, template))
             for rule in domain.sum_rules() if rule.section == "requests" and rule.axis == "col" and rule.is_identity]
    n_cols = len(next(iter(rows.values())).alignment.readings)

    def as_values(candidate: tuple[str, ...]) -> list[float | None]:
        return [float(v.replace(",", "")) if v else None for v in candidate]

    options = {code: [as_values(c) for c in rows[code].alignment.candidates] for code in open_rows}
    survivors: list[tuple[int, ...]] = []

    def consistent(values: dict[str, list[float | None]]) -> bool:
        for lhs, rhs in rules:
            for c in range(n_cols):
                terms = [values.get(t) for t in lhs + rhs]
                if any(t is None or t[c] is None for t in terms):
                    continue  # not assessable: says nothing
                left = sum(values[t][c] for t in lhs)
                right = sum(values[t][c] for t in rhs)
                if abs(left - right) > 1e-6:
                    return False
        return True

    def search(i: int, chosen: list[int]) -> None:
        if i == len(open_rows):
            values = dict(known)
            for code, k in zip(open_rows, chosen):
                values[code] = options[code][k]
            if consistent(values):
                survivors.append(tuple(chosen))
            return
        for k in range(len(options[open_rows[i]])):
            chosen.append(k)
            search(i + 1, chosen)
            chosen.pop()

    search(0, [])
    if not survivors:
        return []
    narrowed = []
    for i, code in enumerate(open_rows):
        keep = sorted({combo[i] for combo in survivors})
        if len(keep) == len(options[code]):
            continue
        alignment = rows[code].alignment
        candidates = [alignment.candidates[k] for k in keep]
        sources = [alignment.sources[k] for k in keep]
        columns = tuple(Column(r.col, "", False, False) for r in alignment.readings)
        fresh = readings_from_candidates(candidates, sources, alignment.tokens, columns)
        why = f"the column sums R1/R3 hold for {len(candidates)} of the {len(alignment.candidates)} ways to split the run"
        readings = [Reading(n.col, n.status, n.value, n.unit, n.token, why)
                    if o.status == "ambiguous" and n.status == "reported" else n
                    for o, n in zip(alignment.readings, fresh)]
        rows[code] = RowReading(code, Alignment(readings, candidates, alignment.tokens, sources), rows[code].label_line)
        narrowed.append(code)
    return narrowed
