"""Confirm OCR numbers with the tables' own sums (the identities R1–R4 of ``rules.csv``).

An OCR number whose readings do not agree is ``ambiguous`` with its readings (``Cell.readings``). Its
*candidates* are the whole values that two independent readings give (``Cell.candidates``, decided by
the reader: one reading alone, or two readings of the same model, made wrong sums hold). A rule instance
(a row total, a column's balance or result total) whose other terms are read confirms its unconfirmed
terms when exactly one choice among their candidates makes it hold. A cell without candidates is
confirmed only when two rule instances, all of whose other terms are read, require the same value of
it and one of its readings gave that value. Both repeat until nothing changes. A value is never computed from the rule: it is always one of the cell's own readings.
Functions return new readings and never change their input.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from pipeline.extract.align import Alignment, Reading
from pipeline.extract.readings import RowReading, TableReading
from pipeline.knowledge import domain

MAX_COMBINATIONS = 4096

Key = tuple[str, str]  # (row, col)


def candidates(reading: Reading) -> list[Decimal]:
    """Well-formed, non-negative whole values among an OCR cell's candidates."""
    token = reading.token
    if reading.status != "ambiguous" or token is None or token.kind != "unsure":
        return []
    values = {_value(c) for c in token.cell.candidates or ()}
    return sorted(v for v in values if v is not None)


def _value(text: str) -> Decimal | None:
    if not text or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _instances(table: TableReading) -> list[tuple[str, list[Key], list[Key]]]:
    """(rule, lhs cells, rhs cells) of every identity rule of the table's section and template."""
    out = []
    columns = list(dict.fromkeys(r.col for row in table.rows.values() for r in row.alignment.readings))
    for rule in domain.sum_rules():
        if rule.section != table.section or not rule.is_identity or rule.template not in ("both", table.template):
            continue
        if rule.axis == "row":
            for row in (rule.keys or tuple(table.rows)):
                out.append((rule.rule, [(row, c) for c in rule.lhs_codes], [(row, c) for c in rule.rhs_codes]))
            continue
        lhs, rhs = _expand(rule.lhs_codes, table), _expand(rule.rhs_codes, table)
        for col in (rule.keys or columns):
            out.append((rule.rule, [(r, col) for r in lhs], [(r, col) for r in rhs]))
    return out


def _expand(rows: tuple[str, ...], table: TableReading) -> list[str]:
    """A derived row not printed in the table (2021 other_processing) stands for the rows it sums."""
    out = []
    for row in rows:
        derived = [d for d in domain.derived_sums() if d.row == row and d.template == table.template]
        out.extend(derived[0].terms if derived and row not in table.rows else [row])
    return out


def _solve(lhs: list[Key], rhs: list[Key], known: dict[Key, Decimal], options: dict[Key, list[Decimal]]):
    """The one assignment of the unknown terms' candidates that makes lhs = rhs, else None."""
    unknown = [k for k in dict.fromkeys(lhs + rhs) if k not in known]
    if not unknown or any(not options.get(k) for k in unknown):
        return None
    total = 1
    for k in unknown:
        total *= len(options[k])
    if total > MAX_COMBINATIONS:
        return None
    found = None
    for combo in itertools.product(*(options[k] for k in unknown)):
        values = {**known, **dict(zip(unknown, combo))}
        if sum(values[k] for k in lhs) == sum(values[k] for k in rhs):
            if found is not None:
                return None
            found = dict(zip(unknown, combo))
    return found


def _readings(reading: Reading) -> set[Decimal]:
    """Every whole value any one reading of an unconfirmed OCR cell gives."""
    token = reading.token
    if reading.status != "ambiguous" or token is None or token.kind != "unsure":
        return set()
    return {v for v in (_value(r) for r in token.cell.readings) if v is not None}


def _pinned_twice(instances, known: dict[Key, Decimal], readings: dict[Key, set[Decimal]]):
    """Unconfirmed cells that two rule instances, all of whose other terms are known, pin to the same
    value, which one of the cell's readings gave: {cell: (value, the two rules)}. (One rule and one
    reading are not enough: two misreads of one confusion once made a row total hold.)"""
    pins: dict[Key, list[tuple[Decimal, str]]] = {}
    for rule, lhs, rhs in instances:
        unknown = [k for k in lhs + rhs if k not in known]
        if len(unknown) != 1 or not readings.get(unknown[0]):
            continue
        k = unknown[0]
        rest = sum(known[x] for x in rhs if x != k) - sum(known[x] for x in lhs if x != k)
        pins.setdefault(k, []).append((rest if k in lhs else -rest, rule))
    out = {}
    for k, found in pins.items():
        values = {v for v, _ in found}
        if len(found) >= 2 and len(values) == 1 and values <= readings[k]:
            out[k] = (found[0][0], sorted({rule for _, rule in found})[:2])
    return out


def confirm_by_sums(table: TableReading) -> TableReading:
    """The table with the OCR numbers that a sum rule confirms reported (evidence: which rule)."""
    if not any(r.token is not None and r.token.kind == "unsure"
               for row in table.rows.values() for r in row.alignment.readings):
        return table  # no OCR number in doubt: most reports
    cells = {(code, r.col): r for code, row in table.rows.items() for r in row.alignment.readings}
    options = {k: candidates(r) for k, r in cells.items()}
    known = {k: Decimal(str(r.value)) for k, r in cells.items() if r.status == "reported" and r.value is not None}
    confirmed: dict[Key, str] = {}
    instances = [(rule, lhs, rhs) for rule, lhs, rhs in _instances(table) if all(k in cells for k in lhs + rhs)]
    readings = {k: _readings(r) for k, r in cells.items()}
    changed = True
    while changed:
        changed = False
        for rule, lhs, rhs in instances:
            found = _solve(lhs, rhs, known, options)
            for k, v in (found or {}).items():
                known[k] = v
                confirmed[k] = rule
                changed = True
        for k, (v, rules) in _pinned_twice(instances, known, readings).items():
            known[k] = v
            confirmed[k] = " and ".join(rules)
            changed = True
    if not confirmed:
        return table
    rows = {}
    for code, row in table.rows.items():
        readings = [_confirmed(r, known[(code, r.col)], confirmed[(code, r.col)]) if (code, r.col) in confirmed
                    else r for r in row.alignment.readings]
        rows[code] = RowReading(code, Alignment(readings), row.label_line, row.tokens) if readings != list(
            row.alignment.readings) else row
    note = f"OCR numbers confirmed by the sum rules: {len(confirmed)}"
    return replace(table, rows=rows, notes=table.notes + [note])


def _confirmed(reading: Reading, value: Decimal, rule: str) -> Reading:
    readings = "/".join(r or "-" for r in reading.token.cell.readings)
    how = ("two sums hold with it and with no other value" if " and " in rule
           else "the only one of the cells' readings that makes the sum hold")
    return Reading(reading.col, "reported", float(value), None, reading.token,
                   f"OCR reading {value} (readings {readings}) confirmed by {rule}: {how}")
