"""Alignment: which number belongs to which column.

This is where silent errors are born, so every rule here is conservative. A row's tokens are placed
on its columns only when the text proves the placement; otherwise the cells are ``ambiguous`` with the
reason in ``evidence``. Proofs used:

* the row has exactly as many values as columns (cell boundaries, spaces or lines separate them);
* a structured row (HTML, pipes, tabs) whose empty cells make up the count: they are printed blanks;
* more values than columns that are all equal (every placement gives the same cells);
* in run-together text (``规章000``), every way of splitting the digit run into the row's cells that
  obeys the number rules (no leading zeros, signs only where signed, decimals only in money columns)
  gives the same value for the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from pipeline.extract.stream import Token, parse_number
from pipeline.knowledge import domain
from pipeline.knowledge.domain import Column

MAX_CANDIDATES = 20000
MAX_RUN_DIGITS = 64  # a longer run is not a table row; splitting it would take forever


class Reading(NamedTuple):
    col: str
    status: str  # reported / blank / ambiguous
    value: float | None
    unit: str | None  # unit written next to the number, if any
    token: Token | None  # where the value was read (None when ambiguous without a single source)
    evidence: str | None = None
    printed: float | None = None  # a number printed where it cannot be a value (a negative count)


@dataclass(slots=True)
class Alignment:
    readings: list[Reading]
    # For run-together rows: every admissible split, as one value text per column. Sum rules may
    # narrow these down later (see tables.resolve_with_rule).
    candidates: list[tuple[str, ...]] | None = None
    tokens: list[Token] | None = None
    sources: list[tuple[int, ...]] | None = None  # token index per column, per candidate


def _reading(col: Column, token: Token) -> Reading:
    if token.kind == "num" and token.text.isascii() and token.text.isdigit():  # the common case, built fast
        return tuple.__new__(Reading, (col.code, "reported", float(token.text), None, token, None, None))
    if token.kind == "unsure":
        return unsure_reading(col, token)
    if token.kind == "num":
        value, unit = parse_number(token.text)
        if value < 0 and not col.signed:
            return Reading(col.code, "ambiguous", None, None, token,
                           f"printed {token.text} in a column that cannot be negative", printed=value)
        return Reading(col.code, "reported", value, unit, token)
    return Reading(col.code, "blank", None, None, token)


def unsure_reading(col: Column, token: Token) -> Reading:
    """An OCR number its readings do not confirm: ambiguous, with the readings (sum rules may confirm one)."""
    readings = "/".join(r or "-" for r in token.cell.readings)
    return Reading(col.code, "ambiguous", None, None, token,
                   f"OCR reading {token.text} (readings {readings}, confidence {token.cell.confidence or 0:g}) "
                   "not confirmed: the readings disagree, or a glyph touches a ruling line")


def _all_ambiguous(columns: tuple[Column, ...], why: str, token: Token | None = None) -> Alignment:
    return Alignment([Reading(c.code, "ambiguous", None, None, token, why) for c in columns])


def _valid_cell(text: str, col: Column) -> bool:
    signed = text[:1] in "+-"
    body = text[1:] if signed else text
    if not body or (signed and not col.signed):
        return False
    if "." in body:
        if not col.money:
            return False
        whole, _, frac = body.partition(".")
        if not whole or not frac or (len(whole) > 1 and whole[0] == "0"):
            return False
        return True
    return len(body) == 1 or body[0] != "0"


def _split_token(text: str, columns: tuple[Column, ...], first: int, max_cells: int):
    """Ways to cut one run of digits into 1..max_cells consecutive cells starting at column ``first``."""
    out: list[list[str]] = []

    def rec(pos: int, ci: int, acc: list[str]) -> None:
        if len(out) > MAX_CANDIDATES:
            return
        if pos == len(text):
            if acc:
                out.append(acc[:])
            return
        if len(acc) == max_cells:
            return
        for end in range(pos + 1, len(text) + 1):
            piece = text[pos:end]
            if _valid_cell(piece, columns[ci]):
                acc.append(piece)
                rec(end, ci + 1, acc)
                acc.pop()

    rec(0, first, [])
    rec = None  # it refers to itself: breaking the cycle frees it (and what it holds) now, not at a collection
    return out


def enumerate_splits(tokens: list[Token], columns: tuple[Column, ...]):
    """Every admissible split of run-together tokens over the columns: (values, token index) lists."""
    if len(tokens) == len(columns):  # each token gives a cell at least: one cell each, or no split
        return _one_cell_each(tokens, columns)
    return _search_splits(tokens, columns)


def _token_cell(token: Token, col: Column) -> str | None:
    """The cell a whole token makes in a column (its text; '' for a placeholder), None when it cannot."""
    if token.kind != "num":
        return ""
    if "," in token.text:  # thousands separators: never split, the unit kept
        return token.text if _valid_cell(_strip_unit(token.text).replace(",", ""), col) else None
    body = _strip_unit(token.text)
    return body if _valid_cell(body, col) else None


def _one_cell_each(tokens: list[Token], columns: tuple[Column, ...]):
    """:func:`enumerate_splits` when there are as many tokens as columns, without the search."""
    values = tuple(_token_cell(t, c) for t, c in zip(tokens, columns))
    return [] if None in values else [(values, tuple(range(len(tokens))))]


def _search_splits(tokens: list[Token], columns: tuple[Column, ...]):
    """Every admissible split, by a search over the ways to cut each token."""
    k = len(columns)
    results: list[tuple[tuple[str, ...], tuple[int, ...]]] = []

    def rec(ti: int, ci: int, values: list[str], sources: list[int]) -> None:
        if len(results) > MAX_CANDIDATES:
            return
        if ti == len(tokens):
            if ci == k:
                results.append((tuple(values), tuple(sources)))
            return
        if k - ci < len(tokens) - ti:
            return
        tok = tokens[ti]
        if tok.kind != "num" or "," in tok.text:  # a token that is never cut: one cell, or no split
            cell = _token_cell(tok, columns[ci])
            if cell is None:
                return
            values.append(cell)
            sources.append(ti)
            rec(ti + 1, ci + 1, values, sources)
            values.pop()
            sources.pop()
            return
        body = _strip_unit(tok.text)
        max_cells = k - ci - (len(tokens) - ti - 1)
        for pieces in _split_token(body, columns, ci, max_cells):
            values.extend(pieces)
            sources.extend([ti] * len(pieces))
            rec(ti + 1, ci + len(pieces), values, sources)
            del values[len(values) - len(pieces):]
            del sources[len(sources) - len(pieces):]

    rec(0, 0, [], [])
    rec = None  # it refers to itself: breaking the cycle frees it (and what it holds) now, not at a collection
    return results


def _strip_unit(text: str) -> str:
    for unit in domain.units():
        if text.endswith(unit.text):
            return text[: -len(unit.text)]
    return text


def align(tokens: list[Token], columns: tuple[Column, ...], run_together: bool) -> Alignment:
    k = len(columns)
    filled = [t for t in tokens if t.kind != "empty"]
    if run_together:
        if not filled:
            return _all_ambiguous(columns, "no values printed after the label")
        return _align_run_together(filled, columns)
    if filled and len(filled) == k:
        return Alignment([_reading(c, t) for c, t in zip(columns, filled)])
    if len(filled) < k:
        # Empty cells of a structured row (HTML, pipes, tabs) are printed blanks when they make up
        # the count exactly; first without the empties around the row, then with them.
        for candidate in (_trim_empty(tokens), tokens):
            if len(candidate) == k:
                return Alignment([_reading(c, t) for c, t in zip(columns, candidate)])
        if not filled:
            return _all_ambiguous(columns, "no values printed after the label")
        return _all_ambiguous(columns, f"{len(filled)} values for {k} cells; their columns are not printed")
    if len({t.text if t.kind == "num" else t.kind for t in filled}) == 1 and filled[0].kind != "unsure":
        return Alignment([_reading(c, filled[0]) for c in columns])
    return _all_ambiguous(columns, f"{len(filled)} values for {k} cells")


def _trim_empty(tokens: list[Token]) -> list[Token]:
    start, end = 0, len(tokens)
    while start < end and tokens[start].kind == "empty":
        start += 1
    while end > start and tokens[end - 1].kind == "empty":
        end -= 1
    return tokens[start:end]


def _align_run_together(tokens: list[Token], columns: tuple[Column, ...]) -> Alignment:
    if any(t.kind == "unsure" for t in tokens):
        return _all_ambiguous(columns, "an OCR number in a run of values is not confirmed")
    if sum(len(t.text) for t in tokens) > MAX_RUN_DIGITS:
        return _all_ambiguous(columns, f"a run of {sum(len(t.text) for t in tokens)} characters is too long "
                                       f"to be {len(columns)} cells")
    found = enumerate_splits(tokens, columns)
    if not found:
        return _all_ambiguous(columns, f"the run {' '.join(t.text for t in tokens)!r} cannot be split "
                                        f"into {len(columns)} cells")
    if len(found) > MAX_CANDIDATES:
        return _all_ambiguous(columns, "the digit run splits too many ways")
    candidates = [values for values, _ in found]
    sources = [src for _, src in found]
    return Alignment(readings_from_candidates(candidates, sources, tokens, columns),
                     candidates, tokens, sources)


def readings_from_candidates(candidates, sources, tokens, columns) -> list[Reading]:
    """Per column: the value when every candidate split agrees on it, else ambiguous."""
    readings = []
    first_sources = sources[0]
    for ci, col in enumerate(columns):
        options = {cand[ci] for cand in candidates}
        token = tokens[first_sources[ci]]
        if len(options) > 1:
            shown = ", ".join(sorted(options, key=lambda s: (len(s), s))[:4])
            readings.append(Reading(col.code, "ambiguous", None, None, token,
                                    f"digit run splits {len(candidates)} ways: this cell could be {shown}"))
            continue
        text = options.pop()
        if text == "":
            readings.append(Reading(col.code, "blank", None, None, token))
            continue
        value, _ = parse_number(text)
        # a unit written after the run belongs to the run's last cell
        last_of_token = ci + 1 == len(columns) or first_sources[ci + 1] != first_sources[ci]
        unit = parse_number(token.text)[1] if last_of_token else None
        evidence = f"digit run splits {len(candidates)} ways, all agree here" if len(candidates) > 1 else None
        readings.append(Reading(col.code, "reported", value, unit, token, evidence))
    return readings
