"""The three statistical tables of a document, read in a short chain:

locate the tables by their labels (:mod:`locate`) → decide the template from the tables themselves
(:mod:`template`) → read each table's rows (:mod:`rows`, :mod:`appeals`), aligning values to columns
(:mod:`align`) → settle the digit runs of flattened text with the tables' own sums (:mod:`settle`), and
confirm OCR numbers with them (:mod:`confirm`).
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.extract import proven, settle
from pipeline.extract.appeals import read_appeals
from pipeline.extract.confirm import confirm_by_sums
from pipeline.extract.locate import locate_tables, table_window
from pipeline.extract.prose import prose_lines
from pipeline.extract.readings import RowReading, TableReading, Tables
from pipeline.extract.rows import read_proactive, read_requests, row_readers
from pipeline.extract.stream import Stream
from pipeline.extract.template import decide_template, older_template_of
from pipeline.ingest.readers import Document

__all__ = ["RowReading", "TableReading", "Tables", "read_tables"]


def read_tables(doc: Document) -> Tables:
    window = table_window(doc.cells)
    stream = Stream(window)
    regions = locate_tables(stream)
    choice = decide_template(stream, regions)
    readers = row_readers(stream, regions, choice)
    run_together = any(reader.run_together() for reader in readers.values())

    proactive = TableReading("proactive", found=regions.proactive_anchor is not None, template=choice.proactive_template,
                             notes=choice.proactive_notes)
    if "proactive" in readers:
        proactive = read_proactive(readers["proactive"], choice.template, run_together, choice.proactive_notes)
    requests = TableReading("requests", found=regions.first_request is not None)
    if "requests" in readers:
        requests = settle_requests(read_requests(readers["requests"], choice, run_together), run_together)
        if not run_together:
            layout_template = older_template_of("requests") if choice.hybrid else choice.template
            requests = proven.requests_by_sums(stream, regions.requests_start, regions.requests_end, requests,
                                               layout_template)
    appeals = TableReading("appeals", found=regions.appeals_heading is not None)
    if regions.appeals_heading is not None and choice.template:
        appeals = read_appeals(stream, regions, choice.template, run_together)
    requests, appeals = confirm_by_sums(requests), confirm_by_sums(appeals)  # OCR numbers only
    prose = prose_lines(doc.cells[:len(doc.cells) - len(window)], stream, regions)
    return Tables(proactive, requests, appeals, choice.template, run_together, choice.notes, prose)


def settle_requests(table: TableReading, run_together: bool) -> TableReading:
    """Digit runs of Table 3 narrowed by each row's total (R2), then by the column sums (R1, R3)."""
    if not run_together:
        return table  # values were separated: there are no splits to settle
    rows = {code: settle.by_row_sums(reading, "requests") for code, reading in table.rows.items()}
    rows, narrowed = settle.by_column_sums(rows, table.template)
    notes = table.notes + ([f"digit runs split by the column sums (R1, R3): {', '.join(narrowed)}"] if narrowed else [])
    return replace(table, rows=rows, notes=notes)
