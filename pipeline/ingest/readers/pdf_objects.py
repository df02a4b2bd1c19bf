"""pdfminer's objects and fonts read faster, with the same results.

Opening a PDF's fonts is where pdfminer.six spends much of a page's time: every font dictionary,
widths array, Type3 encoding and ToUnicode CMap is read by ``PSBaseParser``, one byte-range at a
time through a state machine in Python. Browser PDFs carry a hundred or more Type3 fonts each, so
on them object parsing alone took a third of the reading time.

Three levels, each giving the Python objects pdfminer's own code gives:

* :func:`parse_object` reads a whole indirect object (arrays, dictionaries, references, a stream's
  data by its ``/Length``) with :mod:`pdf_lexer`'s regular expression, following ``PDFParser``'s
  rules;
* where it meets anything else, :class:`FastObjectParser` reads the object again with pdfminer's
  own stack parser, only its ``nexttoken`` replaced by one match of the same expression;
* where a token is not one of the plain forms (a ``#`` escape in a name, nested brackets in a
  string, a brace, a stray byte), pdfminer's own parser reads the object from its start.

Fonts read their ToUnicode CMaps with :class:`FastCMapParser` (pdfminer's CMap parser on the same
tokens), convert each glyph name once per document and resolve their widths without a call per
number. The cross-reference tables and trailers are read by pdfminer as before. The functions
:func:`fast_fonts` swaps into pdfminer's modules give the same results as pdfminer's, so a thread
reading another PDF meanwhile gets the same results either way.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

from pdfminer import encodingdb, pdffont
from pdfminer.cmapdb import CMapParser
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFObjRef, PDFStream, resolve1
from pdfminer.psparser import EOL, KWD, PSEOF

from pipeline.ingest.readers.pdf_lexer import (
    _ARRAY_BEGIN, _CLOSE, _DICT_BEGIN, _KW, _OPEN, _TOKEN, Unsupported, _close, token_value)


def next_token(data: bytes, at: int) -> tuple[int, int, object] | None:
    """The token ``PSBaseParser.nexttoken`` reads at offset ``at`` of ``data``: its offset, the offset
    after it and its value; None at the end of the data; :class:`Unsupported` where pdfminer's
    tokenizer has its own ways."""
    match = _TOKEN.match(data, at)
    while match.lastindex is None:  # a > alone, or the end
        if match.end() >= len(data):
            return None
        match = _TOKEN.match(data, match.end())
    kind = match.lastindex
    return match.start(kind), match.end(), token_value(kind, match[kind])


def all_tokens(data: bytes) -> list[tuple[int, object]]:
    """Every token of ``data`` with its offset, as ``nexttoken`` gives them until ``PSEOF``."""
    return [(m.start(m.lastindex), token_value(m.lastindex, m[m.lastindex])) for m in _TOKEN.finditer(data) if m.lastindex]


_R, _NULL, _OBJ = KWD(b"R"), KWD(b"null"), KWD(b"obj")
_ENDOBJ = KWD(b"endobj")
_STREAM = KWD(b"stream")
# keywords PDFParser treats its own way (xref, startxref), or that mean the object is broken (obj,
# trailer: the next object or the trailer without an endobj); endstream is pushed like any keyword
_STRUCTURE = {KWD(t) for t in (b"obj", b"xref", b"startxref", b"trailer")}


def parse_object(data: bytes, at: int, doc, streams: bool = True) -> object:
    """The object ``PDFParser.nextobject`` returns for an indirect object whose body starts at ``at``
    (after ``obj``): arrays and dictionaries built, ``R`` references made, ``null`` read as None (and
    dropped from dictionaries), a stream's data read by its ``/Length`` as ``PDFParser`` reads it
    (``streams`` False when the document's parser reads streams by lines instead), up to ``endobj``.
    :class:`Unsupported` for any token of another form, or anything the stack parser would treat its
    own way (a reference without two whole numbers, unbalanced brackets, an odd dictionary, a stream
    without a whole /Length or without ``endstream`` ...)."""
    top: list = [None]
    stack = [top]
    current = top
    append = top.append
    tokens = _TOKEN.finditer(data, at)  # the tokens of next_token, read in one loop
    while (match := next(tokens, None)) is not None:
        kind = match.lastindex
        if kind is None:
            continue
        text = match[kind]
        if kind == _OPEN:
            current = [_DICT_BEGIN if text == b"<<" else _ARRAY_BEGIN]
            stack.append(current)
            append = current.append
            continue
        if kind == _CLOSE:
            current = _close(stack, text)
            append = current.append
            continue
        value = token_value(kind, text)
        if kind != _KW:
            append(value)
        elif value is _R:
            if len(current) < 3 or type(current[-2]) is not int or type(current[-1]) is not int:
                raise Unsupported("a reference without an object and a generation number")
            del current[-1]
            current[-1] = PDFObjRef(doc, current[-1])
        elif value is _NULL:
            append(None)
        elif value is _ENDOBJ and len(stack) == 1 and len(top) > 1:
            return top[1:][-4:][0]  # PDFParser takes the last four objects and returns the first of them
        elif value is _STREAM and streams and len(stack) == 1 and len(top) == 2 and type(top[1]) is dict:
            top[1], resume = _stream(data, match.start(kind), top[1], doc)
            tokens = _TOKEN.finditer(data, resume)
        elif value is _ENDOBJ or value is _STREAM or value in _STRUCTURE:
            raise Unsupported(f"{value!r} where the stack parser has its own ways")
        else:
            append(value)
    raise Unsupported("no endobj")


def _stream(data: bytes, at: int, attrs: dict, doc) -> tuple[PDFStream, int]:
    """The stream whose ``stream`` keyword is at ``at``, and where ``endstream`` is, as
    ``PDFParser.do_keyword`` finds them: the data begins after the keyword's line (its CR LF, CR or
    LF), runs for /Length bytes, and the parser goes on at the first ``endstream`` after it."""
    length = resolve1(attrs["Length"]) if "Length" in attrs else None
    if type(length) is not int or length < 0:
        raise Unsupported("a stream without a whole /Length")
    line_end = EOL.search(data, at)  # pdfminer's own line end
    if line_end is None:
        raise Unsupported("a stream keyword without a line end")
    begin = line_end.end()
    if data[line_end.start()] == 13 and data[begin:begin + 1] == b"\n":
        begin += 1
    end = data.find(b"endstream", begin + length)
    if end < 0:
        raise Unsupported("a stream without endstream")
    return PDFStream(attrs, data[begin:begin + length], doc.decipher), end


class FastObjectParser(PDFParser):
    """pdfminer's ``PDFParser`` whose tokens come from :func:`next_token` over the file's bytes.

    ``nextline`` (used to find where a stream's data begins) and stream data reads stay pdfminer's:
    they read the same bytes through ``fp``, and each is followed by a ``seek`` that moves both."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0
        super().__init__(io.BytesIO(data))

    def seek(self, pos: int) -> None:
        super().seek(pos)
        self._at = pos

    def nexttoken(self):
        token = next_token(self._data, self._at)
        if token is None:
            raise PSEOF("Unexpected EOF")
        start, self._at, value = token
        return start, value


class FastDocument(PDFDocument):
    """pdfminer's document whose indirect objects are read by :func:`parse_object`, else by
    :class:`FastObjectParser`, else by the document's own parser (each time from the object's start,
    so a half-read object never leaks)."""

    def __init__(self, parser: PDFParser, data: bytes, *args, **kwargs) -> None:
        self._fast_parser = FastObjectParser(data)
        self._stock_parser = parser
        super().__init__(parser, *args, **kwargs)
        self._fast_parser.set_document(self)

    def _getobj_parse(self, pos: int, objid: int) -> object:
        # After parse_object, the stock method body runs with the fast parser in place of the
        # document's own. A stream's /Length may be a reference read while the object is half read;
        # pdfminer then reads it with the same parser and seeks back, and so does this.
        fast = self._fast_parser
        try:
            header = [next_token(fast._data, pos)]
            for _ in range(2):
                header.append(next_token(fast._data, header[-1][1]) if header[-1] else None)
            if header[2] is not None and header[0][2] == objid and header[2][2] is _OBJ:
                return parse_object(fast._data, header[2][1], self, streams=not self._stock_parser.fallback)
        except Unsupported:
            pass
        previous = self._parser
        self._fast_parser.fallback = self._stock_parser.fallback  # streams read by /Length or by lines
        self._fast_parser.doc = self
        self._parser = self._fast_parser
        try:
            return super()._getobj_parse(pos, objid)
        except Unsupported:
            self._parser = self._stock_parser
            return super()._getobj_parse(pos, objid)
        finally:
            self._parser = previous


class FastCMapParser(CMapParser):
    """pdfminer's CMap parser (ToUnicode maps, embedded encodings) on tokens read by
    :func:`all_tokens`; a CMap with a token of another form is read by pdfminer's tokenizer whole."""

    def __init__(self, cmap, fp) -> None:
        super().__init__(cmap, fp)
        data = fp.getvalue() if isinstance(fp, io.BytesIO) else None
        self._tokens_read: list | None = None
        if data is not None:
            try:
                self._tokens_read = all_tokens(data)[::-1]
            except Unsupported:
                self._tokens_read = None

    def nexttoken(self):
        if self._tokens_read is None:
            return super().nexttoken()
        if not self._tokens_read:
            raise PSEOF("Unexpected EOF")
        return self._tokens_read.pop()


class _GlyphNames:
    """``encodingdb.name2unicode`` remembered per name: a Type3 font's encoding lists a glyph name
    for each of its codes, and the same few hundred names recur in every font of a document. An
    unknown name raises the same error again each time, as pdfminer's function does."""

    def __init__(self, convert) -> None:
        self._convert = convert
        self._known: dict = {}

    def __call__(self, name):
        try:
            found = self._known[name]
        except TypeError:  # not hashable: the function raises its own error
            return self._convert(name)
        except KeyError:
            try:
                found = self._known[name] = (True, self._convert(name))
            except (KeyError, ValueError) as exc:
                found = self._known[name] = (False, (type(exc), exc.args))
        if found[0]:
            return found[1]
        kind, args = found[1]
        raise kind(*args)


_PLAIN = frozenset((int, float, bool, str, bytes, type(None)))


def resolve_all(x: object, default: object = None) -> object:
    """``pdftypes.resolve_all`` (references resolved all the way down, lists copied, dictionaries
    changed in place) without a call per number: a CID font's widths are thousands of them."""
    while isinstance(x, PDFObjRef):
        x = x.resolve(default=default)
    if isinstance(x, list):
        return [v if type(v) in _PLAIN else resolve_all(v, default) for v in x]
    if isinstance(x, dict):
        for k, v in x.items():
            if type(v) not in _PLAIN:
                x[k] = resolve_all(v, default)
    return x


@contextmanager
def fast_fonts():
    """pdfminer's fonts read their CMaps with :class:`FastCMapParser`, their glyph names through
    :class:`_GlyphNames` and their widths through :func:`resolve_all` inside this block (pdfminer's
    modules name them at module level, so they are swapped there and put back after)."""
    stock = pdffont.CMapParser, encodingdb.name2unicode, pdffont.resolve_all
    pdffont.CMapParser = FastCMapParser
    encodingdb.name2unicode = _GlyphNames(stock[1])
    pdffont.resolve_all = resolve_all
    try:
        yield
    finally:
        pdffont.CMapParser, encodingdb.name2unicode, pdffont.resolve_all = stock
