"""Property-based tests: any text in, no exception; well-formed tables, numbers back exactly."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.knowledge import domain
from pipeline.process import process_bytes
from pipeline.ingest.discover import SourceFile
from pipeline.ingest.normalize import normalize_text
from pipeline.ingest.readers import read_document
from pipeline.tools.synth import render_report
from pipeline.extract.tables import read_tables

# text that looks like reports: table labels, digits, separators, brackets, traditional characters
REPORT_ALPHABET = st.sampled_from(list("一二三四五六七（）()、.，,:：|\t\n 0123456789+-—/元万件总计规章行政许可申请公开處務(wù)")
                                  + ["本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "（七）总计",
                                     "第二十条第（一）项", "四、政府信息公开行政复议、行政诉讼情况", "<td>", "</tr>"])
REPORTISH = st.lists(REPORT_ALPHABET, max_size=300).map("".join)


@given(st.text(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_normalizer_takes_any_text_and_keeps_lines(text):
    out = normalize_text(text, traditional=True)
    assert isinstance(out, str)
    assert out.count("\n") == text.count("\n")  # line numbers stay valid for provenance


@given(st.one_of(st.text(max_size=3000), REPORTISH), st.sampled_from(["a.txt", "a.html", "a.md"]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_gives_a_report_row_and_never_an_exception(text, name):
    result = process_bytes(SourceFile(None, name), text.encode("utf-8", "surrogatepass"))
    assert result.report["status"] in ("parsed", "partial", "rejected")
    assert result.report["status"] == "parsed" or result.report["reason"]
    for fact in result.fact_rows():
        assert (fact["value"] is None) == (fact["status"] in ("blank", "ambiguous", "not_printed"))


@given(st.text(max_size=500), st.sampled_from(["text", "html"]))
@settings(max_examples=200, deadline=None)
def test_cell_reader_takes_any_text(text, fmt):
    read_tables(read_document(text, fmt))


COUNT = st.one_of(st.just(0), st.integers(0, 30), st.integers(0, 10**7))
CELL = st.one_of(COUNT.map(str), st.sampled_from(["-", "/", "—"]))


@st.composite
def tables(draw):
    template = draw(st.sampled_from(domain.TEMPLATES))
    t2 = {}
    for row in domain.layout(template, "proactive"):
        cells = []
        for col in row.columns:
            if col.code == "change":
                cells.append(draw(st.integers(-500, 500).map(lambda v: f"+{v}" if v > 0 else str(v))))
            elif col.money:
                cells.append(draw(st.one_of(COUNT.map(str), st.decimals(0, 10**6, places=2).map(
                    lambda d: format(d, "f").rstrip("0").rstrip(".") if d else "0"))))
            else:
                cells.append(draw(CELL))
        t2[row.code] = cells
    t3 = {row.code: draw(st.lists(CELL, min_size=7, max_size=7)) for row in domain.layout(template, "requests")}
    t4 = draw(st.lists(CELL, min_size=15, max_size=15))
    return template, t2, t3, t4


@given(tables(), st.sampled_from(["lines", "pipes", "tabs", "markdown", "html"]), st.booleans(), st.integers(0, 10**6))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_well_formed_tables_come_back_exactly(generated, layout, traditional, seed):
    template, t2, t3, t4 = generated
    report = render_report(template, t2, t3, t4, layout, random.Random(seed), traditional)
    result = process_bytes(SourceFile(None, report.name), report.data)
    got = {(f["section"], f["row"], f["col"]): ("blank" if f["status"] == "blank" else f["value"])
           for f in result.fact_rows() if f["status"] != "derived"}
    expected = {(s, r, c): (v if v == "blank" else float(v)) for s, r, c, v in report.truth}
    assert got == expected
