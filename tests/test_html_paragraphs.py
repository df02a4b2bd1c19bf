"""Statistics pasted into a web page as paragraphs read exactly as the same text in a .txt file.

Agencies paste the report's text into their CMS: one ``<p>`` or ``<div>`` per line, lines separated by
``<br>``, the whole text in ``<pre>``, or each line in a row of a one-column ``<table>``. The HTML
reader must then give the text reader's lines, so every cell has the same value and status.
"""

import html
import random

import pytest
from conftest import SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import tables

from pipeline.process import process_bytes
from pipeline.ingest.discover import SourceFile
from pipeline.ingest.readers.html import read_html
from pipeline.tools.synth import LAYOUTS, make_report, render_report

TEXT_LAYOUTS = [layout for layout in LAYOUTS if layout != "html"]
FORMS = ("p", "div", "br", "pre", "table")
BREAKS = ("<br>", "<br/>\n", "<br />\r\n", "<BR>")


def as_html(text: str, form: str, br: str = "<br>") -> str:
    lines = [html.escape(line) for line in text.splitlines()]
    if form == "p":
        body = "\n".join(f"<p>{line}</p>" for line in lines)
    elif form == "div":
        body = "".join(f"<div>{line}</div>" for line in lines)
    elif form == "br":
        body = '<div class="article">' + br.join(lines) + "</div>"
    elif form == "pre":
        body = "<pre>" + html.escape(text) + "</pre>"
    else:
        body = "<table>\n" + "\n".join(f"  <tr><td>{line}</td></tr>" for line in lines) + "\n</table>"
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开</title></head><body>'
            + body + "</body></html>")


def cells(name: str, data: bytes) -> dict:
    result = process_bytes(SourceFile(None, name), data)
    return {(f["section"], f["row"], f["col"]): (f["status"], f["value"]) for f in result.fact_rows()}


def assert_same_facts(text: str, form: str, br: str = "<br>") -> None:
    plain = cells("report.txt", text.encode("utf-8"))
    assert plain, "the plain text gives no facts"
    wrapped = cells("report.html", as_html(text, form, br).encode("utf-8"))
    assert wrapped == plain


@given(seed=st.integers(0, 10**6), layout=st.sampled_from(TEXT_LAYOUTS), traditional=st.booleans(),
       form=st.sampled_from(FORMS), br=st.sampled_from(BREAKS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_report_as_html_paragraphs_gives_the_facts_of_its_text(seed, layout, traditional, form, br):
    report = make_report(seed, 0, layout=layout, encoding="utf-8", traditional=traditional)
    assert_same_facts(report.data.decode("utf-8"), form, br)


@given(tables(), st.sampled_from(TEXT_LAYOUTS), st.integers(0, 10**6), st.sampled_from(FORMS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_well_formed_tables_as_html_paragraphs_give_the_facts_of_their_text(generated, layout, seed, form):
    template, t2, t3, t4 = generated
    report = render_report(template, t2, t3, t4, layout, random.Random(seed))
    assert_same_facts(report.data.decode("utf-8"), form)


SEED_TEXTS = sorted((SHARED / "seeds").glob("*.txt")) if SHARED.exists() else []


@pytest.mark.skipif(not SEED_TEXTS, reason="../shared/seeds not available")
@pytest.mark.parametrize("form", FORMS)
def test_seed_texts_as_html_paragraphs_give_the_facts_of_the_text(form):
    for path in SEED_TEXTS:
        assert_same_facts(path.read_text(encoding="utf-8"), form, "<br/>\n")


def test_pipe_row_in_a_paragraph_is_split_into_fields_like_a_text_line():
    doc = read_html("<p>规章 | 0 | 2 | 5</p><p>|||</p><p>- 3 -</p>")
    assert [(c.text, c.col, c.structured) for c in doc.cells] == [
        ("规章", 0, True), ("0", 1, True), ("2", 2, True), ("5", 3, True)]  # the pipe row and page number go


def test_tabs_inside_a_paragraph_separate_fields_and_indentation_does_not():
    doc = read_html("<p>\n\t\t行政许可\t\t120\n\t</p><p>\t一、总体情况</p>")
    assert [(c.text, c.col) for c in doc.cells] == [("行政许可", 0), ("", 1), ("120", 2), ("一、总体情况", None)]


def test_pre_keeps_its_lines():
    doc = read_html("<pre>\n规章\t0\t0\n\n行政许可\t120\n</pre>")
    assert [(c.text, c.col) for c in doc.cells] == [("规章", 0), ("0", 1), ("0", 2), ("行政许可", 0), ("120", 1)]


def test_one_column_table_is_read_as_lines_and_a_real_table_as_cells():
    frame = read_html("<table><tr><td>规章 | 0</td></tr><tr><td></td></tr><tr><td>a<br>b</td></tr></table>")
    assert [(c.text, c.col, c.structured) for c in frame.cells] == [
        ("规章", 0, True), ("0", 1, True), ("a", None, False), ("b", None, False)]  # no empty cell for the blank row
    grid = read_html("<table><tr><td colspan=2>第二十条第（一）项</td></tr><tr><td>规章</td><td></td></tr></table>")
    assert [(c.text, c.col, c.structured) for c in grid.cells] == [
        ("第二十条第(一)项", 0, True), ("规章", 0, True), ("", 1, True)]
