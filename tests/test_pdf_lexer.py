"""The faster reader of content streams (pdf_lexer) gives exactly what pdfminer's own parser gives,
or hands the stream back to it: token by token on generated syntax, and page by page (every glyph box
and ruling line to the last bit) on the PDFs the tests write."""

import io

import pytest
from conftest import read_pdf_pages, same_pdf_value
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfminer.converter import PDFPageAggregator
from pdfminer.pdfinterp import PDFContentParser, PDFPageInterpreter
from pdfminer.pdftypes import PDFStream
from pdfminer.psparser import PSEOF
from report_documents import report_blocks, write_pdf
from reportlab.pdfgen import canvas

from pipeline.ingest.readers.pdf import open_pdf
from pipeline.ingest.readers.pdf_content import page_content
from pipeline.ingest.readers.pdf_lexer import (
    FastInterpreter,
    Unsupported,
    joined,
    tokens,
)


def _stream(data: bytes, objid: int = 1) -> PDFStream:
    stream = PDFStream({}, data)
    stream.objid = objid
    return stream


def pdfminer_objects(*datas: bytes) -> list:
    try:
        parser = PDFContentParser([_stream(d, i) for i, d in enumerate(datas, 1)])
    except PSEOF:
        return []
    found = []
    while True:
        try:
            found.append(parser.nextobject()[1])
        except PSEOF:
            return found


PIECES = [b"1", b"-2", b"+3", b"0.5", b"-.25", b"7.", b".", b"-", b"12.5.3", b"q", b"Q", b"BT", b"ET", b"Tj",
          b"TJ", b"T*", b"'", b'"', b"re", b"f*", b"true", b"false", b"null", b"/F1", b"/Span", b"/A#20B",
          b"(abc)", b"(a\\(b\\)c)", b"(x\\101y)", b"(\\1234)", b"(tab\\t\\q)", b"(line\\\ncont)",
          b"(cr\\\r\nlf)", b"(a(b)c)", b"<48656C6C6F>", b"<4 8 6>", b"<>", b"<<", b">>", b">", b"[", b"]",
          b"{", b"}", b"%comment\n", b"BI", b"ID", b"\x00", b"\xe2\x80", b"Tj\xff", b"<41>>"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from([b" ", b"\n", b"", b"\r\n", b"\t"])),
                max_size=25))
def test_tokens_are_pdfminers_objects_or_the_stream_is_left_to_pdfminer(parts):
    data = b"".join(p + sep for p, sep in parts)
    try:
        got = tokens(data)
    except Unsupported:
        return
    expected = pdfminer_objects(data)
    assert len(got) == len(expected) and all(same_pdf_value(a, b) for a, b in zip(got, expected)), (data, got, expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12), st.lists(st.integers(0, 60), max_size=3))
def test_a_page_of_several_streams_is_read_as_pdfminer_reads_it(parts, cuts):
    data = b" ".join(parts)
    bounds = sorted({min(c, len(data)) for c in cuts})
    streams = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)])]
    try:
        got = tokens(*joined(streams))
    except Unsupported:
        return
    expected = pdfminer_objects(*streams)
    assert len(got) == len(expected), (streams, got, expected)
    assert all(same_pdf_value(a, b) for a, b in zip(got, expected)), (streams, got, expected)


@pytest.mark.parametrize("data", [b"/Span<</ActualText<FEFF00A0>>>\nBDC", b"<04>Tj", b"[(a)-250(b)]TJ",
                                  b"(\\101\\102)Tj", b"0.6 w 1 0 0 RG 10 20 m 30 20 l S"])
def test_plain_syntax_is_read_here(data):
    got = tokens(data)
    assert len(got) == len(pdfminer_objects(data))
    assert all(same_pdf_value(a, b) for a, b in zip(got, pdfminer_objects(data)))


@pytest.mark.parametrize("data", [b"BI /W 1 /H 1 ID \x00 EI", b"/A#20B Do", b"(a(b)c) Tj", b"{ 1 }", b"[ 1 2",
                                  b"<< /A >>", b"- 1"])
def test_syntax_with_pdfminer_ways_of_its_own_is_left_to_pdfminer(data):
    with pytest.raises(Unsupported):
        tokens(data)


def _contents(data: bytes, interpreter_class) -> list:
    document, _ = open_pdf(data)
    return read_pdf_pages(document, interpreter_class, PDFPageAggregator, page_content)


def _inline_image_page() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    c.drawString(100, 700, "before the picture")
    c.drawInlineImage(Image.new("L", (4, 4), 128), 100, 600, 20, 20)
    c.line(100, 500, 300, 500)
    c.showPage()
    c.save()
    return buffer.getvalue()


@pytest.mark.parametrize("pdf", [lambda: write_pdf(report_blocks(), split_requests_at=12),
                                 lambda: write_pdf(report_blocks(), ruled=False, narrow=True, underline=True),
                                 _inline_image_page])
def test_pages_read_through_the_faster_reader_are_pdfminers_to_the_last_bit(pdf):
    data = pdf()
    assert _contents(data, FastInterpreter) == _contents(data, PDFPageInterpreter)
