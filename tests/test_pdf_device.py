"""The page aggregator that does a character's work in one loop (pdf_device) gives every character
the attributes pdfminer's own device gives it, bit for bit: spacing, kerning, scaling, rise, rotated
text, characters without Unicode, text inside a form, vertical fonts; on generated reports and, when
../shared is present, on every page of the corpus and formats PDFs."""

import io

import pytest
from conftest import read_pdf_pages, shared_pdfs
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTContainer
from pdfminer.pdfparser import PDFParser
from report_documents import one_page_pdf, report_blocks, write_pdf

from pipeline.ingest.readers.pdf_device import GlyphAggregator
from pipeline.ingest.readers.pdf_lexer import FastInterpreter
from pipeline.ingest.readers.pdf_objects import FastDocument, fast_fonts


def _described(item) -> tuple:
    """Everything pdfminer set on a layout item; the colour space and graphic state by value."""
    fields = dict(vars(item))
    fields.pop("_objs", None)
    if "ncs" in fields:
        fields["ncs"] = (fields["ncs"].name, fields["ncs"].ncomponents)
    if "graphicstate" in fields:
        fields["graphicstate"] = repr(sorted(vars(fields["graphicstate"]).items()))
    return type(item).__name__, repr(sorted(fields.items()))


def _items(container) -> list:
    found = []
    for item in container:
        found.append(_described(item))
        if isinstance(item, LTContainer) and not isinstance(item, LTChar):
            found.extend(_items(item))
    return found


def layout_items(data: bytes, device_class) -> list:
    document = FastDocument(PDFParser(io.BytesIO(data)), data)
    return read_pdf_pages(document, FastInterpreter, device_class, _items, fast_fonts)


def assert_same_characters(data: bytes) -> int:
    got, expected = layout_items(data, GlyphAggregator), layout_items(data, PDFPageAggregator)
    assert len(got) == len(expected)
    for page_got, page_expected in zip(got, expected):
        assert page_got == page_expected
    return sum(kind == "LTChar" for page in got for kind, _ in page)


def _text_with_every_spacing() -> bytes:
    content = (b"BT /F1 12 Tf 72 700 Td (Plain text) Tj "
               b"2 Tc 5 Tw 80 Tz 3 Ts (Spaced out words) Tj "
               b"0 Tc 0 Tw 100 Tz 0 Ts [(Ke) -250 (rn) 120.5 (ing)] TJ "
               b"0.7071 0.7071 -0.7071 0.7071 300 400 Tm (Turned) Tj "
               b"1 0 0 -1 100 300 Tm (Mirrored) Tj 1 0.2 0.3 1 72 100 Tm (Skewed) Tj "
               b"1 0 0 1 72 200 Tm (\\001\\002 no unicode) Tj ET "
               b"q 0.5 0 0 0.5 50 50 cm /Fm1 Do Q")
    form = b"BT /F1 10 Tf 10 10 Td (inside a form) Tj ET"
    return one_page_pdf(content, b"<< /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >>", [
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding << /Type /Encoding /Differences [ 1 /nonesuch ] >> >>",
        b"<< /Type /XObject /Subtype /Form /BBox [ 0 0 200 200 ] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Length %d >>\nstream\n" % len(form) + form + b"\nendstream",
    ])


def _vertical_text() -> bytes:
    content = b"BT /F1 12 Tf 300 700 Td <7AD663926587 5B57> Tj ET"  # 竖排文字 in UCS-2, written top to bottom
    return one_page_pdf(content, b"<< /Font << /F1 5 0 R >> >>", [
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-V /Encoding /UniGB-UCS2-V "
        b"/DescendantFonts [ 6 0 R ] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [ -25 -254 1000 880 ] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ])


def test_every_spacing_rotation_and_form_gives_pdfminers_characters():
    data = _text_with_every_spacing()
    assert assert_same_characters(data) > 60
    texts = "".join(text for page in layout_items(data, GlyphAggregator) for kind, text in page if kind == "LTChar")
    assert "(cid:1)" in texts  # a code without Unicode is named as pdfminer names it


def test_vertical_text_goes_through_pdfminers_own_path_alike():
    data = _vertical_text()
    assert assert_same_characters(data) == 4
    chars = [text for page in layout_items(data, GlyphAggregator) for kind, text in page if kind == "LTChar"]
    assert "'_text', '竖'" in chars[0] and "'_text', '字'" in chars[3]


@pytest.mark.parametrize("pdf", [lambda: write_pdf(report_blocks(), split_requests_at=12),
                                 lambda: write_pdf(report_blocks(), ruled=False, narrow=True, underline=True)])
def test_generated_reports_give_pdfminers_characters(pdf):
    assert assert_same_characters(pdf()) > 500


@pytest.mark.parametrize("path", shared_pdfs() or [None], ids=lambda p: p.name if p else "none")
def test_every_character_of_the_corpus_pdfs_is_pdfminers(path):
    if path is None:
        pytest.skip("../shared is not present")
    assert assert_same_characters(path.read_bytes()) > 0
