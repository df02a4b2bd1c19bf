"""Settle ambiguous digit-run splits with the table's own sums (R1–R4 of ``rules.csv``).

Flattened text runs a row's digits together (``801000081``); :mod:`pipeline.extract.align` keeps every
admissible split as a candidate. Here only candidates under which the table's own identities hold
survive: a row total equals its parts (R2, R4), and per column, 一+二 = 三(七)+四 and the result rows add
up to 三(七) (R1, R3). A cell becomes determined when every survivor agrees on it; when no candidate
survives (the source breaks its own sums), nothing is narrowed. Functions return new readings and
never change their input.
"""

from __future__ import annotations

from pipeline.extract.align import Alignment, Reading, readings_from_candidates
from pipeline.extract.readings import RowReading
from pipeline.knowledge import domain
from pipeline.knowledge.domain import Column

MAX_COMBINATIONS = 200_000
TOLERANCE = 1e-6


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _row_groups(codes: list[str]) -> dict[str, list[int]]:
    """Positions per row of a joined alignment (Table 4 is read as one run: ``row/col`` codes)."""
    groups: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        prefix = code.split("/")[0] if "/" in code else ""
        groups.setdefault(prefix, []).append(i)
    return groups


def _narrowed(alignment: Alignment, keep: list[int], why: str) -> Alignment:
    """The alignment with only the kept candidates; newly determined cells carry ``why``."""
    candidates = [alignment.candidates[i] for i in keep]
    sources = [alignment.sources[i] for i in keep]
    columns = tuple(Column(r.col, "", False, False) for r in alignment.readings)
    fresh = readings_from_candidates(candidates, sources, alignment.tokens, columns)
    readings = [Reading(new.col, new.status, new.value, new.unit, new.token, why)
                if old.status == "ambiguous" and new.status == "reported" else new
                for old, new in zip(alignment.readings, fresh)]
    return Alignment(readings, candidates, alignment.tokens, sources)


def by_row_sums(reading, section: str):
    """Narrow an ambiguous split (a RowReading or an Alignment) with the row identity of its table
    (R2 / R4): only candidates whose printed total equals the sum of its parts survive."""
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
        for positions in groups.values():
            values = {}
            for pos in positions:
                if candidate[pos] == "":
                    return False
                values[codes[pos].split("/")[-1]] = _value(candidate[pos])
            if any(c not in values for c in rule.lhs_codes + rule.rhs_codes):
                return False
            if abs(sum(values[c] for c in rule.lhs_codes) - sum(values[c] for c in rule.rhs_codes)) > TOLERANCE:
                return False
        return True

    keep = [i for i, cand in enumerate(alignment.candidates) if satisfies(cand)]
    if not keep or len(keep) == len(alignment.candidates):
        return reading
    why = f"{rule.rule} holds for {len(keep)} of the {len(alignment.candidates)} ways to split the run"
    narrowed = _narrowed(alignment, keep, why)
    if isinstance(reading, RowReading):
        return RowReading(reading.code, narrowed, reading.label_line)
    return narrowed


def _expand_terms(terms: tuple[str, ...], template: str) -> list[str]:
    """Replace a derived row (2021 other_processing) by the rows it sums."""
    out = []
    for term in terms:
        derived = [d for d in domain.derived_sums() if d.row == term and d.template == template]
        out.extend(derived[0].terms if derived else [term])
    return out


def column_rules(template: str) -> list[tuple[list[str], list[str]]]:
    return [(_expand_terms(rule.lhs_codes, template), _expand_terms(rule.rhs_codes, template))
            for rule in domain.sum_rules() if rule.section == "requests" and rule.axis == "col" and rule.is_identity]


def _consistent(values: dict[str, list[float | None]], rules, n_cols: int) -> bool:
    for lhs, rhs in rules:
        for c in range(n_cols):
            terms = [values.get(t) for t in lhs + rhs]
            if any(t is None or t[c] is None for t in terms):
                continue  # not assessable: says nothing
            if abs(sum(values[t][c] for t in lhs) - sum(values[t][c] for t in rhs)) > TOLERANCE:
                return False
    return True


def _surviving_combinations(rows: dict[str, RowReading], open_rows: list[str], template: str) -> list[tuple[int, ...]]:
    """Every combination of the open rows' candidates under which no assessable column rule fails."""
    known = {code: [x.value if x.status == "reported" else None for x in r.alignment.readings]
             for code, r in rows.items() if code not in open_rows}
    rules = column_rules(template)
    n_cols = len(next(iter(rows.values())).alignment.readings)
    options = {code: [[_value(v) if v else None for v in c] for c in rows[code].alignment.candidates]
               for code in open_rows}
    survivors: list[tuple[int, ...]] = []

    def search(i: int, chosen: list[int]) -> None:
        if i == len(open_rows):
            values = dict(known)
            for code, k in zip(open_rows, chosen):
                values[code] = options[code][k]
            if _consistent(values, rules, n_cols):
                survivors.append(tuple(chosen))
            return
        for k in range(len(options[open_rows[i]])):
            chosen.append(k)
            search(i + 1, chosen)
            chosen.pop()

    search(0, [])
    return survivors


def by_column_sums(rows: dict[str, RowReading], template: str) -> tuple[dict[str, RowReading], list[str]]:
    """Narrow Table 3's still-ambiguous digit-run rows with the per-column rules R1 and R3.

    Every combination of the open rows' candidate splits is tried (up to MAX_COMBINATIONS); when none
    survives, nothing changes. Returns the rows (a new dict) and the codes of the rows narrowed.
    """
    open_rows = [code for code, r in rows.items()
                 if r.alignment.candidates and len(r.alignment.candidates) > 1
                 and any(x.status == "ambiguous" for x in r.alignment.readings)]
    if not open_rows:
        return rows, []
    total = 1
    for code in open_rows:
        total *= len(rows[code].alignment.candidates)
    if total > MAX_COMBINATIONS:
        return rows, []
    survivors = _surviving_combinations(rows, open_rows, template)
    if not survivors:
        return rows, []
    settled = dict(rows)
    narrowed = []
    for i, code in enumerate(open_rows):
        alignment = rows[code].alignment
        keep = sorted({combo[i] for combo in survivors})
        if len(keep) == len(alignment.candidates):
            continue
        why = (f"the column sums R1/R3 hold for {len(keep)} of the {len(alignment.candidates)} ways to split "
               "the run")
        settled[code] = RowReading(code, _narrowed(alignment, keep, why), rows[code].label_line)
        narrowed.append(code)
    return settled, narrowed
