"""The reviewer's checks of one report: is it complete (C), does its prose agree with its tables (T), was
it published on time (D)? Each failure is a violations row; the rules are rows of rules.csv and the
phrases, headings and deadlines are data (parts.csv, prose_claims.csv, deadlines.csv).

The checks across reports (S: prose reused from last year, Y: year-on-year changes) are in
:mod:`pipeline.checks.across_years`.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from functools import cache
from itertools import accumulate
from typing import NamedTuple

from pipeline.extract.facts import usable_values
from pipeline.ingest.normalize import without_spaces
from pipeline.knowledge import domain, labels

_SENTENCE_END = domain.pattern("sentence_end")
_HEADING_NUMBER = domain.pattern("heading_number")
MAX_QUOTE = 160


def _finding(report_id: str, rule: str, outcome: str, message: str, section=None, row=None, col=None,
             expected=None, actual=None, cells=None) -> dict:
    info = next(r for check in ("completeness", "prose", "deadline") for r in domain.rules_of(check) if r.rule == rule)
    return {"report_id": report_id, "rule": rule, "severity": info.severity, "outcome": outcome, "section": section,
            "row": row, "col": col, "expected": expected, "actual": actual, "cells": cells, "message": message}


# --- C: completeness ----------------------------------------------------------------------------------


@cache
def _part_headings() -> tuple[re.Pattern, re.Pattern]:
    """Every part's heading numbered anywhere in the text, and alone as a text (between NUL
    separators, Markdown's marks allowed around it): one pattern each, a group per part (p1 … p6), so
    the text is searched once."""
    either = "|".join(f"(?P<p{part.part}>{part.regex.pattern})" for part in domain.parts())
    return (re.compile(f"(?:{_HEADING_NUMBER.pattern})(?:{either})"),
            re.compile(f"\x00[#*]*(?:{_HEADING_NUMBER.pattern})?(?:{either})\\**(?=\x00)"))


def missing_parts(texts: list[str]) -> list[domain.Part]:
    """Parts whose heading is printed nowhere: numbered (五、存在的主要问题…) anywhere in the text, or
    alone as a line. A list of the parts in the preface (本报告由总体情况、…组成) is no heading."""
    numbered, alone = _part_headings()
    found = {m.lastgroup for m in numbered.finditer(without_spaces("".join(texts)))}
    if len(found) == len(domain.parts()):
        return []
    # each distinct text once (a line is often also its one cell); a leading NUL makes the scan fast
    separated = without_spaces("\x00".join(dict.fromkeys(texts)))
    found.update(m.lastgroup for m in alone.finditer(f"\x00{separated}\x00"))
    return [part for part in domain.parts() if f"p{part.part}" not in found]


def completeness(report_id: str, texts: list[str], tables) -> list[dict]:
    out = [_finding(report_id, "C1_parts", "failed", f"part {part.part} ({part.name_zh}) not found: no heading "
                                                     f"of it in the report", row=str(part.part))
           for part in missing_parts(texts)]
    for table in tables.all():
        if not table.found:
            named = domain.section_table(table.section)
            out.append(_finding(report_id, "C2_tables", "failed", f"{named['table']} ({named['name_zh']}) not found",
                                section=table.section))
    return out


# --- T: the prose against the tables ---------------------------------------------------------------------


class Claim(NamedTuple):
    rule: str
    number: float
    targets: tuple
    sentence: str
    line: int


def sentences(prose) -> list[tuple[int, str]]:
    """(line, sentence) of the prose: lines joined (dumps wrap sentences and numbers), whitespace
    removed, cut at sentence ends. A sentence's line is the line it starts on."""
    texts = [without_spaces(line.text) for line in prose]
    offsets = list(accumulate((len(t) for t in texts), initial=0))
    joined = "".join(texts)
    out, begin = [], 0
    for m in [*_SENTENCE_END.finditer(joined), None]:
        end = m.start() if m else len(joined)
        if end > begin:
            # the last line starting at or before the sentence (an empty line shares its offset)
            at = bisect_right(offsets, begin, 0, len(texts)) - 1
            out.append((prose[at].line if at >= 0 else 0, joined[begin:end]))
        begin = end + 1
    return out


_CLAUSE_END = domain.pattern("clause_end")
_DIGIT = re.compile(r"\d")


def _quote(sentence: str, start: int, end: int) -> str:
    """The clauses of the sentence around the claim (the whole sentence when it is short)."""
    if len(sentence) <= MAX_QUOTE:
        return sentence
    before = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, start)]
    after = [m.start() for m in _CLAUSE_END.finditer(sentence, end)]
    left = before[-2] if len(before) > 1 and start - before[-1] < 20 else (before[-1] if before else 0)
    right = after[0] if after else len(sentence)
    return ("…" if left else "") + sentence[left:right] + ("…" if right < len(sentence) else "")


def prose_claims(prose) -> list[Claim]:
    """Every statement of a table cell in the prose, once per sentence and cell."""
    claims, seen = [], set()
    for line, sentence in sentences(prose):
        if not _DIGIT.search(sentence):
            continue  # every claim states a number
        for claim in domain.prose_claims():
            if claim.context is not None and not claim.context.search(sentence):
                continue
            for m in claim.regex.finditer(sentence):
                key = (sentence, claim.targets, m.group(1))
                if key not in seen:
                    seen.add(key)
                    claims.append(Claim(claim.rule, float(m.group(1)), claim.targets,
                                        _quote(sentence, m.start(), m.end()), line))
    return claims


def _value(cells: dict, term: tuple[str, str, str]) -> float | None:
    section, row, col = term
    rows = labels.group_members(section, row) or (row,)
    values = [cells.get((section, r, col)) for r in rows]
    return sum(values) if values and all(v is not None for v in values) else None


def prose_against_tables(report_id: str, prose, facts) -> list[dict]:
    claims = prose_claims(prose)
    values = usable_values(facts) if claims else {}
    out = []
    for claim in claims:
        alternatives = [[_value(values, term) for term in alternative] for alternative in claim.targets]
        sums = [sum(v) for v in alternatives if all(x is not None for x in v)]
        section, row, col = claim.targets[0][0]
        where = f"line {claim.line}: “{claim.sentence}”"
        if not sums:
            out.append(_finding(report_id, claim.rule, "not_assessable", f"{where} says {claim.number:g}; the table "
                                f"cell is not read", section, row, col, None, claim.number, f"{row}/{col}"))
        elif all(abs(s - claim.number) > 1e-6 for s in sums):
            out.append(_finding(report_id, claim.rule, "failed", f"{where} says {claim.number:g}, the table "
                                f"{sums[0]:g}", section, row, col, sums[0], claim.number, f"{row}/{col}"))
    return out


# --- D: the publication deadline ---------------------------------------------------------------------------


def deadline_of(kind: str | None, year: int | None) -> dt.date | None:
    month_day = domain.deadlines().get(kind or "")
    return dt.date(year + 1, *month_day) if month_day and year else None


def publication_deadline(report: dict) -> list[dict]:
    deadline = deadline_of(report["kind"], report["year"])
    published = report["published"]
    if deadline is None or published is None:
        why = ("no publication date in the report (page meta tag, publication date line, signature, file properties)"
               if published is None else "the report year is not known" if report["year"] is None
               else f"no deadline is known for an agency of kind {report['kind'] or 'unknown'}")
        return [_finding(report["report_id"], "D1_deadline", "not_assessable", f"the deadline cannot be checked: {why}")]
    late = (published - deadline).days
    if late <= 0:
        return []
    return [_finding(report["report_id"], "D1_deadline", "failed",
                     f"published {published.isoformat()} ({report['published_source']}), after the deadline "
                     f"{deadline.isoformat()} for a {report['kind']}: {late} day(s) late",
                     expected=0.0, actual=float(late))]


def review(report: dict, doc, tables, facts) -> list[dict]:
    """Every per-report finding of the reviewer's checks."""
    texts = [line for line in doc.lines] + [c.text for c in doc.cells if c.col is not None]
    return (completeness(report["report_id"], texts, tables)
            + prose_against_tables(report["report_id"], tables.prose, facts)
            + publication_deadline(report))
