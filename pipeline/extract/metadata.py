"""Agency and report year, read from the report itself.

The title (``<agency><year>年度政府信息公开工作年度报告``) names both. Titles often give a short
name (``独城镇``, ``洪泽区人民政府``); the contract wants the place prefix the report gives anywhere
(``高安市独城镇``), so a town- or district-level name is completed with the county- or city-level
place that precedes it elsewhere in the text (address, breadcrumb, download link). Spam lines (SEO
footers listing real county names) are dropped before any of this.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipeline.ingest.normalize import without_spaces
from pipeline.knowledge import domain

# The patterns are knowledge (knowledge/data/patterns.csv, agency endings in agency_suffixes.csv).
_TITLE = domain.pattern("title")
_TITLE_YEAR_FIRST = domain.pattern("title_year_first")
# A title's agency part ends like an agency or a place, and is not the start of a sentence.
_AGENCY_END = domain.pattern("agency_end")
_NOT_AGENCY = domain.pattern("not_agency")
_TITLE_SEPARATORS = domain.pattern("title_separators")
_PERIOD = domain.pattern("statistics_period")
_BODY_YEAR = domain.pattern("body_year")
_TITLE_PREFIX = domain.pattern("title_prefix")
_ORG_SUFFIX = domain.pattern("org_suffix")
_LEADING_PLACE = domain.pattern("leading_place")
_BODY_ORG = domain.pattern("body_org")
_PREFIX_STOP = domain.pattern("prefix_stop")  # ends a place-name prefix when scanning leftwards
_HIGHER_PLACE_END = domain.pattern("higher_place_end")
_PROVINCE_END = domain.pattern("province_end")
_COUNTY_OR_CITY = domain.pattern("county_or_city")


@dataclass(frozen=True, slots=True)
class ReportMeta:
    agency: str | None
    year: int | None
    agency_evidence: str
    year_evidence: str


def clean_lines(lines: list[str]) -> list[str]:
    spam = domain.noise_patterns("spam")
    return [line for line in lines if line.strip() and not spam.search(line)]


def _title_candidates(lines: list[str]):
    """(agency part, year, line index) for every title-like line, in order."""
    chrome = domain.noise_patterns("chrome")
    previous = ""
    for i, line in enumerate(lines):
        compact = without_spaces(line)
        m = _TITLE.search(compact)
        year_first = _TITLE_YEAR_FIRST.search(compact) if not m else None
        if year_first and not chrome.match(line.strip()):
            head = year_first.group(2)
            if _AGENCY_END.search(head) and not _NOT_AGENCY.search(head):
                yield head, int(year_first.group(1)), i
        if m and not chrome.match(line.strip()):
            head = _TITLE_PREFIX.sub("", compact[: m.start()]).strip()
            head = _TITLE_SEPARATORS.split(head)[-1]  # breadcrumbs, site names, spam before the title
            if head and not (_AGENCY_END.search(head) and not _NOT_AGENCY.search(head)):
                head = ""
            if not head and _ORG_SUFFIX.search(previous):
                head = previous  # the agency on the line above the year line (PDF title pages)
            yield head, int(m.group(1)), i
        if compact:
            previous = _TITLE_PREFIX.sub("", compact)


def _prefix_for(place: str, text: str) -> str | None:
    """The higher-level place printed right before ``place`` most often (淮安市 before 洪泽区)."""
    counts: Counter[str] = Counter()
    for m in re.finditer(re.escape(place), text):
        j = m.start()
        if j == 0 or not _HIGHER_PLACE_END.match(text[j - 1]):
            continue
        k = j - 1
        while k > 0 and j - k < 6 and not _PREFIX_STOP.match(text[k - 1]) and not _PROVINCE_END.match(text[k - 1]):
            k -= 1
        prefix = text[k:j]
        if len(prefix) >= 3:
            counts[prefix] += 1
    if not counts:
        return None
    # The shortest form that every longer one ends with is the name itself: 'X淮安市' ends in '淮安市'.
    best = max(counts.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]
    shorter = [p for p in counts if best.endswith(p) and p != best and len(p) >= 3]
    return min(shorter, key=len) if shorter else best


def _complete_place(agency: str, text: str) -> str:
    m = _LEADING_PLACE.match(agency)
    if not m:
        return agency
    place = m.group(1)
    if _COUNTY_OR_CITY.search(place[:-1]):
        return agency  # already carries its county or city
    prefix = _prefix_for(place, text)
    return prefix + agency if prefix else agency


def read_metadata(lines: list[str]) -> ReportMeta:
    lines = clean_lines(lines)
    text = without_spaces("\n".join(lines))
    agency = None
    agency_evidence = "no title line names the agency"
    year = None
    year_evidence = "no year found"
    for head, title_year, i in _title_candidates(lines[:400]):
        if year is None:
            year, year_evidence = title_year, f"title on text line {i + 1}"
        if head and len(head) >= 2:
            agency, agency_evidence = head, f"title on text line {i + 1}"
            if year != title_year:
                year, year_evidence = title_year, f"title on text line {i + 1}"
            break
    if agency is None:
        m = _BODY_ORG.search(text)
        if m:
            agency, agency_evidence = m.group(2), "first '<year>, <agency>' sentence of the body"
    if year is None:
        m = _PERIOD.search(text)
        if m:
            year, year_evidence = int(m.group(1)), "statistics period"
    if year is None:
        years = Counter(int(y) for y in _BODY_YEAR.findall(text[:20000]) if 2008 <= int(y) <= 2030)
        if years:
            year, year_evidence = years.most_common(1)[0][0], "most frequent year in the body"
    if agency:
        completed = _complete_place(agency, text)
        if completed != agency:
            agency_evidence += f"; place prefix {completed[: len(completed) - len(agency)]} from the text"
        agency = completed
    return ReportMeta(agency, year, agency_evidence, year_evidence)
