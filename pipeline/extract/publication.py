"""When and where a report was published: its date and its page address.

Sources, in order of trust (the first found wins): the page's ``<meta name="PubDate">`` (the national
standard for government web pages puts one on every article), a 发布时间 / 发布日期 line, the date
under the signature, the creation date of a PDF or Word file. The address: ``<meta name="Url">``,
the canonical link, a 原文链接 line. Patterns are in knowledge/data/patterns.csv.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pipeline.ingest.normalize import without_spaces
from pipeline.knowledge import domain

_PUBLICATION_LINE = domain.pattern("publication_line")
_SIGNATURE_DATE = domain.pattern("signature_date")
_SOURCE_URL_LINE = domain.pattern("source_url_line")
_DATE_PARTS = domain.pattern("date_parts")
_PDF_DATE = re.compile(r"D?:?(\d{4})(\d{2})(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
# the property of a document (Document.properties) a date comes from, in order of trust
_PROPERTY_SOURCES = (("pubdate", "page meta PubDate"),)
_CREATION_SOURCES = (("created", "creation date of the file"),)
_SIGNATURE_WINDOW = 40  # lines from the end where the date under the signature is looked for


@dataclass(frozen=True, slots=True)
class Publication:
    published: dt.date | None
    published_source: str | None
    source_url: str | None


def _number(text: str) -> int | None:
    """A number in digits or Chinese numerals (2024, 二〇二四, 十二, 二十五)."""
    if text.isdigit():
        return int(text)
    values = domain.numerals()
    if any(ch not in values for ch in text):
        return None
    ten = next(ch for ch, value in values.items() if value == 10)
    if ten in text:  # 十, 十二, 二十, 二十五
        tens, _, units = text.partition(ten)
        return (values[tens] if tens else 1) * 10 + (values[units] if units else 0)
    return int("".join(str(values[ch]) for ch in text))


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    m = _DATE_PARTS.search(text) or _ISO_DATE.search(text) or _PDF_DATE.match(text)
    if not m:
        return None
    parts = [_number(g) for g in m.groups()]
    try:
        return dt.date(*parts) if all(p is not None for p in parts) else None
    except ValueError:
        return None


def read_publication(lines: list[str], properties: dict[str, str], year: int | None = None) -> Publication:
    """``year``: the report's year; a file created after the year that follows it is not its publication."""
    url = properties.get("url") or next((m.group(1) for line in lines[:80]
                                         if (m := _SOURCE_URL_LINE.search(line))), None)
    for key, source in _PROPERTY_SOURCES:
        date = parse_date(properties.get(key))
        if date:
            return Publication(date, source, url)
    for line in lines[:80]:
        m = _PUBLICATION_LINE.search(line.strip())
        if m and (date := parse_date(m.group(1))):
            return Publication(date, "publication date line", url)
    for line in reversed(lines[-_SIGNATURE_WINDOW:]):
        m = _SIGNATURE_DATE.match(without_spaces(line))
        if m and (date := parse_date(m.group(1))):
            return Publication(date, "date under the signature", url)
    for key, source in _CREATION_SOURCES:
        date = parse_date(properties.get(key))
        if date and (year is None or date.year <= year + 1):
            return Publication(date, source, url)  # a file made years later is a copy, not the publication
    return Publication(None, None, url)
