"""The faster reading of a PDF's objects and fonts (pdf_objects) gives exactly what pdfminer's own
parsers give, or hands the object back to them: token by token with offsets, object by object on
generated syntax, and on whole documents (every object of the cross-reference table, every page's
glyphs and lines to the last bit), including objects that must fall back."""

import contextlib
import io

import pytest
from conftest import read_pdf_pages, same_pdf_value, shared_pdfs
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfminer import encodingdb
from pdfminer.cmapdb import CMapParser, FileUnicodeMap
from pdfminer.converter import PDFPageAggregator
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFObjRef, PDFStream
from pdfminer.psparser import PSEOF, PSBaseParser, PSLiteral
from report_documents import raw_pdf, report_blocks, write_pdf

from pipeline.ingest.readers import pdf_objects
from pipeline.ingest.readers.pdf_content import page_content
from pipeline.ingest.readers.pdf_lexer import FastInterpreter, Unsupported
from pipeline.ingest.readers.pdf_objects import (
    FastCMapParser,
    FastDocument,
    all_tokens,
    fast_fonts,
    next_token,
    parse_object,
)


def pdfminer_tokens(data: bytes) -> list:
    parser = PSBaseParser(io.BytesIO(data))
    found = []
    while True:
        try:
            found.append(parser.nexttoken())
        except PSEOF:
            return found


PIECES = [b"1", b"-2", b"+3", b"0.5", b"-.25", b"7.", b".", b"-", b"12.5.3", b"0", b"R", b"obj", b"endobj",
          b"null", b"true", b"false", b"stream", b"/Type", b"/Font", b"/A#20B", b"/", b"(abc)", b"(a\\(b\\)c)",
          b"(x\\101y)", b"(\\1234)", b"(a(b)c)", b"(line\\\ncont)", b"<48656C6C6F>", b"<4 8 6>", b"<>", b"<<",
          b">>", b">", b"[", b"]", b"{", b"}", b"%comment\n", b"\x00", b"\xe2\x80", b"'", b'"', b"<41>>"]
SEPARATORS = [b" ", b"\n", b"", b"\r\n", b"\r", b"\t"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=25))
def test_tokens_and_their_offsets_are_pdfminers_or_unsupported(parts):
    data = b"".join(p + sep for p, sep in parts)
    try:
        got = all_tokens(data)
    except Unsupported:
        return
    expected = pdfminer_tokens(data)
    assert [pos for pos, _ in got] == [pos for pos, _ in expected], data
    assert all(same_pdf_value(a, b) for (_, a), (_, b) in zip(got, expected)), (data, got, expected)


def test_a_token_pdfminers_tokenizer_reads_its_own_way_is_unsupported():
    for data in (b"/A#20B", b"(a(b)c)", b"{", b"- 1"):
        with pytest.raises(Unsupported):
            all_tokens(data)
    assert next_token(b"  % a comment\n  ", 0) is None


BODY_PIECES = [b"1", b"0", b"7", b"-3", b"2.5", b"R", b"null", b"true", b"/Name", b"/Kids", b"(text)", b"<00FF>",
               b"<<", b">>", b"[", b"]", b"endobj", b"obj", b"stream", b"/A#20B", b"(a(b)c)", b"{"]


class _Document:
    """What the parsers ask of a document while reading one object with direct lengths."""

    decipher = None


def pdfminer_object(data: bytes):
    parser = PDFParser(io.BytesIO(data))
    parser.set_document(_Document())
    parser.seek(0)
    for _ in range(3):
        parser.nexttoken()  # objid, generation, obj: as PDFDocument._getobj_parse reads them
    return parser.nextobject()[1]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(BODY_PIECES), max_size=20))
def test_an_object_is_the_one_pdfparser_returns_or_unsupported(body):
    data = b"5 0 obj " + b" ".join(body) + b" endobj\n"
    try:
        got = parse_object(data, len(b"5 0 obj"), _Document())
    except Unsupported:
        return
    assert same_pdf_value(got, pdfminer_object(data)), (data, got)


@pytest.mark.parametrize("body, expected_type", [
    (b"<< /Type /Font /Widths [ 1 2 3 ] /FontDescriptor 12 0 R /Gone null >>", dict),
    (b"[ 0 /g0 /g1 5 /space ]", list),
    (b"[ 1 0 R null 2 0 R ]", list),
    (b"42", int),
])
def test_plain_objects_are_built_here(body, expected_type):
    data = b"5 0 obj\n" + body + b"\nendobj\n"
    got = parse_object(data, len(b"5 0 obj"), _Document())
    assert isinstance(got, expected_type)
    assert same_pdf_value(got, pdfminer_object(data))


@pytest.mark.parametrize("body", [b"[ 0 R ]", b"<< /A >>", b"[ 1 2", b"<< /Title (a(b)c) >>", b"/A#20B",
                                  b"<< /Filter /FlateDecode >>\nstream\nabc\nendstream",
                                  b"<< /Length -1 >>\nstream\nabc",
                                  b"<< /Length 3 >>\nstream\nabc", b"[ << /Length 3 >> stream\nabc\nendstream ]"])
def test_odd_syntax_and_streams_without_a_length_or_an_end_are_left_to_pdfparser(body):
    with pytest.raises(Unsupported):
        parse_object(b"5 0 obj\n" + body + b"\nendobj\n", len(b"5 0 obj"), _Document())


@pytest.mark.parametrize("body", [
    b"<< /Length 3 >>\nstream\nabc\nendstream",
    b"<< /Length 3 >>\nstream\r\nabc\r\nendstream",
    b"<< /Length 3 >>\nstream\rabc\rendstream",
    b"<< /Length 3 >> stream   \nabc endstream",
    b"<< /Length 2 >>\nstream\nabc\nendstream",  # shorter than the data: the rest is passed over
    b"<< /Length 0 >>\nstream\n\nendstream",
    b"<< /Length 9 >>\nstream\nendstream\nendstream",  # the word inside the data
    b"<< /Length 3 /Filter /FlateDecode /DecodeParms << /Predictor 12 >> >>\nstream\n\x00\xff\r\nendstream",
    b"<< /Length 3 >>\nstream\nabc\nendstream 7 (after)",  # more before endobj: the fourth from the end
])
def test_a_stream_is_read_by_its_length_as_pdfparser_reads_it(body):
    data = b"5 0 obj\n" + body + b"\nendobj\n"
    got = parse_object(data, len(b"5 0 obj"), _Document())
    expected = pdfminer_object(data)
    assert isinstance(got, PDFStream) and same_pdf_value(got, expected) and got.rawdata == expected.rawdata


def test_a_document_that_reads_streams_by_lines_leaves_them_to_pdfparser():
    with pytest.raises(Unsupported):
        parse_object(b"5 0 obj\n<< /Length 3 >>\nstream\nabc\nendstream\nendobj\n", 7, _Document(), streams=False)


TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<00> <FF>
endcodespacerange
2 beginbfchar
<41> <4E2D>
<42> <56FD>
endbfchar
2 beginbfrange
<43> <45> <0061>
<46> <47> [<0031> <0032>]
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


def _read_cmap(parser_class, data: bytes) -> dict:
    cmap = FileUnicodeMap()
    parser_class(cmap, io.BytesIO(data)).run()
    return cmap.cid2unichr


@pytest.mark.parametrize("data", [TO_UNICODE, TO_UNICODE.replace(b"12 dict begin", b"12 dict begin { }")])
def test_a_cmap_reads_as_pdfminers_parser_reads_it(data):
    got = _read_cmap(FastCMapParser, data)
    assert got == _read_cmap(CMapParser, data)
    assert got[0x41] == "中" and got[0x44] == "b" and got[0x47] == "2"


def test_glyph_names_are_converted_once_each_and_unknown_names_raise_as_before():
    calls = []

    def counting(name):
        calls.append(name)
        return encodingdb.name2unicode(name)

    names = pdf_objects._GlyphNames(counting)
    for _ in range(3):
        assert names("A") == "A" and names("uni4E2D") == "中" and names("f_i") == "fi"
        with pytest.raises(KeyError) as raised:
            names("g7")
        with pytest.raises(KeyError) as expected:
            encodingdb.name2unicode("g7")
        assert type(raised.value) is type(expected.value) and raised.value.args == expected.value.args
    assert sorted(calls) == ["A", "f_i", "g7", "uni4E2D"]


def _hand_made_pdf() -> bytes:
    """A one-page PDF with what the fast readers must hand back: a stream whose /Length is a
    reference, a name with a # escape and a string with nested brackets (the document information),
    a simple font with a Differences encoding and a ToUnicode CMap, and a CMap with braces."""
    content = b"BT /F1 24 Tf 72 700 Td (ABCDEFG) Tj ET 72 650 m 300 650 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 612 792 ] /Contents 4 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Length 5 0 R >>\nstream\n" + content + b"\nendstream",
        str(len(content)).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 65 /LastChar 71 "
        b"/Widths [ 600 600 600 600 600 600 600 ] "
        b"/Encoding << /Type /Encoding /Differences [ 65 /A /B /uni4E2D /nonesuch ] >> /ToUnicode 7 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(TO_UNICODE) + TO_UNICODE + b"\nendstream",
        b"<< /Title (a report (draft)) /Subject /Annual#20report /Producer (hand) >>",
    ]
    return raw_pdf(objects, info=8)


def _every_object(document) -> list:
    ids = set()
    for xref in document.xrefs:
        ids |= set(xref.get_objids())
    found = []
    for objid in sorted(ids):
        try:
            found.append(document.getobj(objid))
        except Exception as exc:  # a damaged object: both must fail alike
            found.append((type(exc).__name__, str(exc)))
    return found


def _pages(document, interpreter_class, fonts) -> list:
    return read_pdf_pages(document, interpreter_class, PDFPageAggregator, page_content, fonts)


def assert_read_as_pdfminer_reads_it(data: bytes) -> None:
    def stock():
        return PDFDocument(PDFParser(io.BytesIO(data)))

    def fast():
        return FastDocument(PDFParser(io.BytesIO(data)), data)

    got, expected = _every_object(fast()), _every_object(stock())
    assert len(got) == len(expected) and all(same_pdf_value(a, b) for a, b in zip(got, expected))
    assert _pages(fast(), FastInterpreter, fast_fonts) == _pages(stock(), PDFPageInterpreter, contextlib.nullcontext)


def test_a_hand_made_pdf_with_objects_that_fall_back_reads_as_pdfminer_reads_it():
    data = _hand_made_pdf()
    assert_read_as_pdfminer_reads_it(data)
    contents = _pages(FastDocument(PDFParser(io.BytesIO(data)), data), FastInterpreter, fast_fonts)
    assert "".join(g.text for g in contents[0].glyphs) == "中国abc12"  # the ToUnicode map, through the fast parser
    info = FastDocument(PDFParser(io.BytesIO(data)), data).info[0]
    assert info["Title"] == b"a report (draft)" and info["Subject"].name == "Annual report"


@pytest.mark.parametrize("pdf", [lambda: write_pdf(report_blocks(), split_requests_at=12),
                                 lambda: write_pdf(report_blocks(), ruled=False, narrow=True, underline=True)])
def test_generated_reports_read_as_pdfminer_reads_them(pdf):
    assert_read_as_pdfminer_reads_it(pdf())


def test_fast_fonts_puts_pdfminers_own_functions_back():
    from pdfminer import pdffont

    before = (pdffont.CMapParser, encodingdb.name2unicode)
    with pytest.raises(RuntimeError), fast_fonts():
        assert pdffont.CMapParser is FastCMapParser
        raise RuntimeError
    assert (pdffont.CMapParser, encodingdb.name2unicode) == before


@pytest.mark.parametrize("path", shared_pdfs() or [None], ids=lambda p: p.name if p else "none")
def test_every_object_and_page_of_the_corpus_pdfs_reads_as_pdfminer_reads_it(path):
    if path is None:
        pytest.skip("../shared is not present")
    assert_read_as_pdfminer_reads_it(path.read_bytes())


class _Objects:
    """A document of numbered objects, for references to resolve."""

    def __init__(self):
        self.objects = {}

    def getobj(self, objid):
        from pdfminer.pdfexceptions import PDFObjectNotFound

        if objid not in self.objects:
            raise PDFObjectNotFound(objid)
        return self.objects[objid]


def _nested(doc) -> dict:
    ref = lambda n: PDFObjRef(doc, n)  # noqa: E731
    return {"W": [1, [500, 600, ref(2)], 3, 5, 700], "FontBBox": ref(3), "Name": PSLiteral("F1"), "Flags": 32,
            "Inner": {"A": ref(2), "B": [ref(4), None, True, b"bytes", "text", 1.5]}, "Missing": ref(9)}


def test_resolve_all_gives_what_pdfminers_gives():
    from pdfminer.pdftypes import resolve_all as stock_resolve_all

    def document():
        doc = _Objects()
        doc.objects.update({2: 800, 3: [0, -200, 1000, PDFObjRef(doc, 2)], 4: {"deep": PDFObjRef(doc, 2)}})
        return doc

    got, expected = pdf_objects.resolve_all(_nested(document())), stock_resolve_all(_nested(document()))
    assert repr(got) == repr(expected)
    assert got["FontBBox"] == [0, -200, 1000, 800] and got["Inner"]["B"][0] == {"deep": 800}
    assert pdf_objects.resolve_all(PDFObjRef(document(), 9), default=7) == 7
