"""Tables read in template order when their own sums prove it (PDF text dumps with broken headers).

PDF text extractors break a table's header words and labels into fragments and interleave them with
the values: ``结 结 其 尚`` / ``果 果 他 未 总`` above Table 4's numbers, ``（ 四 ）`` / ``无 法 提``
between Table 3's rows, a count glued to a broken label (``只计这一情8``). The labels then no longer
delimit the values, yet the table may still print exactly the template's number of values, in the
template's order. That reading is taken only when the table's own identities hold under it:

* Table 4: 结果维持+结果纠正+其他结果+尚未审结 = 总计 (R4) in each of its three blocks;
* Table 3: every row's total (R2) and, in every column, R1 and R3, each of them assessable; with an
  added 法人或其他组织 subtotal column, that column must first equal its five columns on every row.

Rows already read from their labels must agree with it; otherwise nothing changes and the cells stay
``ambiguous``. Functions return new readings and never change their input.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.extract.align import Alignment, Reading
from pipeline.extract.readings import RowReading, TableReading
from pipeline.extract.rows import subtotal_positions
from pipeline.extract.settle import TOLERANCE, column_rules
from pipeline.extract.stream import Stream, Token, parse_number
from pipeline.knowledge import domain
from pipeline.knowledge.domain import Row

_GLUED = domain.pattern("glued_value")


def loose_values(stream: Stream, start: int, end: int) -> list[Token] | None:
    """The values of a compact span in printed order, across the words between them.

    A count glued to the end of a word (``只计这一情8``) is a value; a lone placeholder on a line of
    words (``无`` of a broken ``无法提供``) is a piece of a label. None when the span holds an empty
    structured cell (a blank value or a filler: the count would be unsure).
    """
    if start >= end:
        return []
    first, last = stream.cell_of(start), stream.cell_of(end - 1)
    if any(c.structured and not c.text.strip() for c in stream.cells[first:last + 1]):
        return None
    values: list[Token] = []
    line: list[Token] = []
    words = False
    current = None
    for index, cell, m in stream.pieces(start, end):
        if index != current:
            values.extend(_line_values(line, words))
            line, words, current = [], False, index
        piece: list[Token] = []
        if not Stream.classify(m.group(), cell, m.start(), False, piece):
            line.extend(piece)
            continue
        words = True
        glued = _GLUED.search(m.group())
        if glued:
            line.append(Token("num", glued.group(), cell, m.start() + glued.start(), m.start() + glued.end(), True))
    values.extend(_line_values(line, words))
    return values


def _line_values(line: list[Token], words: bool) -> list[Token]:
    if words and line and all(t.kind == "blank" for t in line):
        return []
    return line


def _counts(tokens: list[Token]) -> list[float] | None:
    """The tokens as counts: every one a plain number, no unit, not negative; else None."""
    out = []
    for token in tokens:
        if token.kind != "num":
            return None
        value, unit = parse_number(token.text)
        if unit is not None or value < 0:
            return None
        out.append(value)
    return out


def _identity_holds(rule, values: dict[str, float]) -> bool:
    if any(c not in values for c in rule.lhs_codes + rule.rhs_codes):
        return False
    return abs(sum(values[c] for c in rule.lhs_codes) - sum(values[c] for c in rule.rhs_codes)) <= TOLERANCE


def _row_rule(section: str):
    rules = [r for r in domain.sum_rules() if r.section == section and r.axis == "row" and r.is_identity]
    return rules[0] if rules else None


def _proven_readings(row: Row, tokens: list[Token], values: list[float], why: str) -> list[Reading]:
    return [Reading(col.code, "reported", value, None, token, why)
            for col, token, value in zip(row.columns, tokens, values)]


def appeals_by_sums(stream: Stream, start: int, end: int, rows: tuple[Row, ...]) -> dict[str, list[Reading]] | None:
    """Table 4's values in template order when there are exactly as many as cells and R4 holds in
    every block. When the count fits but R4 fails in a block, every cell is ambiguous with that
    reason; None when the count does not fit."""
    rule = _row_rule("appeals")
    tokens = loose_values(stream, start, end)
    width = sum(len(row.columns) for row in rows)
    counts = _counts(tokens) if rule is not None and tokens is not None and len(tokens) == width else None
    if counts is None:
        return None
    failed = []
    pos = 0
    for row in rows:
        block = dict(zip((c.code for c in row.columns), counts[pos:pos + len(row.columns)]))
        if not _identity_holds(rule, block):
            failed.append(row.code)
        pos += len(row.columns)
    if failed:
        why = domain.message("unproven_appeals", count=width, rule=rule.rule, blocks=", ".join(failed))
        return {row.code: [Reading(c.code, "ambiguous", None, None, None, why) for c in row.columns] for row in rows}
    why = domain.message("proven_appeals", rule=rule.rule)
    out, pos = {}, 0
    for row in rows:
        n = len(row.columns)
        out[row.code] = _proven_readings(row, tokens[pos:pos + n], counts[pos:pos + n], why)
        pos += n
    return out


def _without_subtotal(chunks: list[list[float]]) -> tuple[list[int], bool] | None:
    """Rows of one value more than the columns: the kept positions, when exactly one added subtotal
    position equals the sum of its group on every row (or all that do give the same cells)."""
    holds = [p for p, (parts, _) in subtotal_positions().items()
             if all(abs(v[p] - sum(v[i] for i in parts)) <= TOLERANCE for v in chunks)]
    if not holds:
        return None
    width = len(chunks[0])
    kept = [[i for i in range(width) if i != p] for p in holds]
    if any(len({tuple(v[i] for i in keep) for keep in kept}) != 1 for v in chunks):
        return None
    return kept[0], True


def _requests_hold(values: dict[str, list[float]], columns: tuple, template: str) -> list[str] | None:
    """The rules that hold for every row (R2) and every column (R1, R3), all assessable; None when
    one fails or cannot be assessed."""
    rule = _row_rule("requests")
    codes = [c.code for c in columns]
    if rule is None or not all(_identity_holds(rule, dict(zip(codes, row))) for row in values.values()):
        return None
    names = [r.rule for r in domain.sum_rules()
             if r.section == "requests" and r.axis == "col" and r.is_identity]
    for lhs, rhs in column_rules(template):
        if any(term not in values for term in lhs + rhs):
            return None
        for c in range(len(codes)):
            if abs(sum(values[t][c] for t in lhs) - sum(values[t][c] for t in rhs)) > TOLERANCE:
                return None
    return sorted([rule.rule, *names])


def _disagreeing(table: TableReading, values: dict[str, list[float]]) -> list[str]:
    """Rows already read from their labels whose cells are not the ones the template order gives."""
    out = []
    for code, reading in table.rows.items():
        if any(r.status == "blank" or (r.status == "reported" and abs(r.value - value) > TOLERANCE)
               for r, value in zip(reading.alignment.readings, values.get(code, ()))):
            out.append(code)
    return out


def _open_rows(table: TableReading, rows: tuple[Row, ...]) -> list[str]:
    return [row.code for row in rows if row.code in table.missing_rows
            or (row.code in table.rows and any(r.status == "ambiguous" for r in table.rows[row.code].alignment.readings))]


def _template_order(tokens: list[Token], rows: tuple[Row, ...]):
    """The tokens cut into the rows' runs, an added subtotal column left out: (values per row, the
    token positions per row, whether a subtotal was left out), or None when the count does not fit."""
    width = len(rows[0].columns)
    counts = _counts(tokens)
    if counts is None or len(tokens) not in (len(rows) * width, len(rows) * (width + 1)):
        return None
    step = len(tokens) // len(rows)
    chunks = [counts[i:i + step] for i in range(0, len(counts), step)]
    kept, subtotal = list(range(width)), False
    if step > width:
        found = _without_subtotal(chunks)
        if found is None:
            return None
        kept, subtotal = found
    values = {row.code: [chunk[i] for i in kept] for row, chunk in zip(rows, chunks)}
    positions = {row.code: [k * step + i for i in kept] for k, row in enumerate(rows)}
    return values, positions, subtotal


def _ambiguous(reading: RowReading, why: str) -> RowReading:
    readings = [Reading(r.col, "ambiguous", None, None, r.token, why) for r in reading.alignment.readings]
    return RowReading(reading.code, Alignment(readings), reading.label_line, reading.tokens)


def requests_by_sums(stream: Stream, start: int, end: int, table: TableReading, template: str) -> TableReading:
    """Table 3 read as the k-th run of a row's width of values for the k-th row of ``template``'s
    layout, when the region holds exactly that many values and R1–R3 hold; else ``table`` as it is.

    A row read from its label that disagrees with that reading becomes ambiguous (one of the two
    readings is wrong, and the sums cannot tell which).
    """
    rows = domain.layout(template, "requests")
    open_rows = _open_rows(table, rows)
    tokens = loose_values(stream, start, end) if open_rows else None
    found = _template_order(tokens, rows) if tokens else None
    if found is None:
        return table
    values, positions, subtotal = found
    rules = _requests_hold(values, rows[0].columns, template)
    if rules is None:
        return table
    new_rows = dict(table.rows)
    conflicts = _disagreeing(table, values)
    if conflicts:
        why = domain.message("proven_conflict", rules=", ".join(rules))
        for code in conflicts:
            new_rows[code] = _ambiguous(table.rows[code], why)
        return replace(table, rows=new_rows, notes=[*table.notes, f"{why}: {', '.join(conflicts)}"])
    why = domain.message("proven_requests_subtotal" if subtotal else "proven_requests", rules=", ".join(rules))
    for row in rows:
        if row.code in open_rows:
            row_tokens = [tokens[i] for i in positions[row.code]]
            label_line = table.rows[row.code].label_line if row.code in table.rows else row_tokens[0].line
            readings = _proven_readings(row, row_tokens, values[row.code], why)
            new_rows[row.code] = RowReading(row.code, Alignment(readings), label_line, row_tokens)
    missing = [code for code in table.missing_rows if code not in open_rows]
    return replace(table, rows=new_rows, missing_rows=missing, notes=[*table.notes, f"{why}: {', '.join(open_rows)}"])
