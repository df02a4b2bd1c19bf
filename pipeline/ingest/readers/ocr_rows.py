"""Row labels of an OCR'd table that the text alone does not name, named by their place in the table.

Table 3's data rows are printed in a fixed order (``layout.csv``). In a grid, each row that holds
numbers has a label cell: the text cell just before its first number. When the rows whose labels
were read (they match their pattern in ``labels.csv``) leave a gap, and the unread labels in that
gap are exactly as many as the template's rows missing there, the k-th unread label is the k-th
missing row: its text is replaced by that row's printed label, provided it still looks a little like
it (:data:`MIN_RATIO`). Every template is tried; a row is not named where two templates name it differently.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from functools import cache

from pipeline.ingest.normalize import without_spaces
from pipeline.knowledge import domain, labels

MIN_RATIO = 0.3
SECTION = "requests"  # the table whose rows are all labelled, in a fixed order


@cache
def _orders() -> tuple[tuple[tuple[str, str], ...], ...]:
    """(code, printed label) of each template's data rows, in printed order."""
    return tuple(tuple((row.code, labels.printed_label(SECTION, "row", row.code, t))
                       for row in domain.layout(t, SECTION)) for t in domain.TEMPLATES)


def _code_of(text: str) -> str | None:
    compact = without_spaces(text)
    for lab in domain.labels(SECTION, "row"):
        if lab.regex.fullmatch(compact) or lab.regex.match(compact):
            return lab.code
    return None


def fill_row_labels(label_texts: list[str]) -> dict[int, str]:
    """For a grid's row label texts (top to bottom), the positions to rename and their printed labels."""
    codes = [_code_of(t) for t in label_texts]
    fills: dict[int, str] = {}
    clashes: set[int] = set()
    for order in _orders():
        for position, label in _fill(label_texts, codes, order).items():
            if fills.setdefault(position, label) != label:
                clashes.add(position)  # the templates disagree here: not named
    return {p: label for p, label in fills.items() if p not in clashes}


def _fill(texts: list[str], codes: list[str | None], order: tuple[tuple[str, str], ...]) -> dict[int, str]:
    index = {code: i for i, (code, _) in enumerate(order)}
    anchors = [(pos, index[c]) for pos, c in enumerate(codes) if c in index]
    if len(anchors) < 2 or any(b[1] <= a[1] for a, b in zip(anchors, anchors[1:])):
        return {}
    out: dict[int, str] = {}
    bounds = [(-1, -1)] + anchors + [(len(texts), len(order))]
    for (p0, i0), (p1, i1) in zip(bounds, bounds[1:]):
        unread = [p for p in range(p0 + 1, p1) if codes[p] is None]
        missing = list(range(i0 + 1, i1))
        if not unread or len(unread) != len(missing) or len(unread) != p1 - p0 - 1:
            continue
        if p0 == -1 and len(missing) > 1 or p1 == len(texts) and len(missing) > 1:
            continue  # before the first or after the last label read: only one row may be named
        pairs = [(p, order[i][1]) for p, i in zip(unread, missing)]
        if all(SequenceMatcher(None, without_spaces(texts[p]), label, autojunk=False).ratio() >= MIN_RATIO
               for p, label in pairs):
            out.update(pairs)
    return out
