"""pdfminer's page interpreter fed by a faster reader of content streams, with the same results.

Most of pdfminer.six's time on a page goes into reading the content stream one token at a time in
Python (``PSBaseParser``); the operators themselves (text positioning, paths, colours) are cheap.
:class:`FastInterpreter` keeps every operator of pdfminer's ``PDFPageInterpreter`` and its device
(so each character box, path and colour is computed by the same code, in the same order, to the
same float), and only replaces the reading of the stream: one regular expression splits it into
tokens, turned into the same Python objects pdfminer's parser makes (ints, floats, bytes, interned
``PSLiteral``/``PSKeyword``, lists, dicts).

It reads only the plain forms of the syntax. Anything where pdfminer's parser has its own ways
(an inline image, ``#`` escapes in names, a procedure in braces, unbalanced brackets, a stray
character, a malformed number, an odd dictionary) makes it hand the whole stream back to pdfminer's
own parser, so such a stream reads exactly as before, only not faster.

PDFium (pypdfium2) was measured for the same purpose and cannot give pdfminer's boxes: it computes in
32-bit floats (positions off by up to 5e-5 pt, enough to reorder glyphs whose x0 tie and to round
some boxes to another whole point), takes glyph widths and descents from the font programs (boxes
off by up to 3.6 pt on LibreOffice exports), merges and drops spaces, and maps Kangxi radicals to
the unified ideographs (⽹ -> 网), so the dataset would change.
"""

from __future__ import annotations

import re

from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdftypes import PDFStream, stream_value
from pdfminer.psparser import KWD, LIT, PSKeyword, PSLiteral, keyword_name, literal_name

# One token of the forms read here, in the order pdfminer's lexer tries them, after the blanks and
# comments before it (read in the same match: half as many matches). \x00 counts as blank (pdfminer
# skips it); its other blanks are Python's \s. A match without a group is a > alone or the end.
_TOKEN = re.compile(rb"""
    (?:[\s\x00]++|%[^\r\n]*+)*+                  # blanks and comments
    (?:
    ([-+]?[0-9]++)(?![.0-9])                     # 1: a number without a point
  | ([-+]?(?:[0-9]++\.[0-9]*+|\.[0-9]++))         # 2: a number with one
  | ([A-Za-z][^#/%\[\]()<>{}\s]*+)(?!\#)         # 3: an operator, true or false
  | (/[^#/%\[\]()<>{}\s]*+)(?!\#)                # 4: a name without # escapes
  | (\((?:[^()\\]|\\.)*+\))                      # 5: a string without nested brackets
  | (<(?!<)[0-9A-Fa-f\s]*+)(?:>(?!>)|(?=>))        # 6: a hex string and its closing > (left when >>
                                                #    follows: pdfminer reads those two as >>)
  | (<<|\[)                                      # 7
  | (>>|\])                                      # 8
  | (['"])                                       # 9: the operators ' and "
  | >                                           # a > alone: pdfminer drops it (so the > that
                                                # closes a hex string, unless >> follows)
  | (.)                                         # 10: anything else
  | \Z                                          # the end, after the last blanks
    )
""", re.VERBOSE | re.DOTALL)
_INT, _REAL, _KW, _NAME, _STR, _HEX, _OPEN, _CLOSE, _QUOTE, _OTHER = range(1, 11)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")",
            b"\\": b"\\"}
_ESCAPE = re.compile(rb"\\(\r\n|[0-7]{1,3}|.)", re.DOTALL)
_HEX_PAIR = re.compile(rb"[0-9a-fA-F]{2}|.", re.DOTALL)
_BLANKS = re.compile(rb"\s")
_DICT_BEGIN, _ARRAY_BEGIN = KWD(b"<<"), KWD(b"[")
_INLINE_IMAGE = (KWD(b"BI"), KWD(b"ID"), KWD(b"EI"))
_KEYWORDS: dict[bytes, object] = {}  # operator text -> its interned keyword (or True, False)
_SYMBOLS = {text: KWD(text) for text in (b"<<", b">>", b"[", b"]", b"'", b'"')}


class Unsupported(Exception):
    """Syntax this reader leaves to pdfminer's parser."""


def _escape(match: re.Match) -> bytes:
    """A backslash escape as pdfminer reads it: octal codes, the named escapes, and any other
    character after a backslash dropped (a backslash before a line end continues the line)."""
    code = match.group(1)
    if code[:1].isdigit():
        value = int(code, 8)
        if value > 255:
            raise Unsupported("octal escape above 255")
        return bytes((value,))
    return _ESCAPES.get(code, b"")


def _string(token: bytes) -> bytes:
    body = token[1:-1]
    if b"\\" not in body:
        return body
    if b"\\\r" in body:  # pdfminer skips a CRLF after a backslash, but only the CR where the LF is
        raise Unsupported("backslash before a CR")  # in its next 4 KiB chunk of the stream
    return _ESCAPE.sub(_escape, body)


def _hex(token: bytes) -> bytes:
    digits = token[1:]
    if len(digits) % 2 == 0 and digits.isalnum():  # the usual case: pairs of digits, no blanks
        return bytes.fromhex(digits.decode("ascii"))
    return _HEX_PAIR.sub(lambda m: bytes((int(m.group(0), 16),)), _BLANKS.sub(b"", token[1:]))


def _name(token: bytes) -> object:
    try:
        return LIT(str(token[1:], "utf-8"))
    except UnicodeDecodeError:
        return LIT(token[1:])


def _close(stack: list[list], token: bytes) -> list:
    """The array or dictionary just closed, put where it belongs."""
    if len(stack) < 2 or (stack[-1][0] is _DICT_BEGIN) != (token == b">>"):
        raise Unsupported("unbalanced brackets")
    items = stack.pop()[1:]
    if token == b"]":
        value: object = items
    else:
        if len(items) % 2:
            raise Unsupported("odd dictionary")
        value = {_key(k): v for k, v in zip(items[::2], items[1::2]) if v is not None}
    stack[-1].append(value)
    return stack[-1]


def _key(key: object) -> str:
    if not isinstance(key, PSLiteral):
        raise Unsupported("dictionary key that is not a name")
    return literal_name(key)


def _keyword(text: bytes) -> object:
    """The interned keyword of an operator's text, or True / False, as pdfminer reads them."""
    value = _KEYWORDS.get(text)
    if value is None:
        value = _KEYWORDS.setdefault(text, True if text == b"true" else False if text == b"false" else KWD(text))
    return value


def token_value(kind: int, text: bytes) -> object:
    """The Python object pdfminer's tokenizer makes of a token of this kind (a group of ``_TOKEN``),
    or :class:`Unsupported` (:func:`tokens` writes the common kinds out in its own loop)."""
    if kind == _INT:
        return int(text)
    if kind == _NAME:
        return _name(text)
    if kind == _KW:
        return _keyword(text)
    if kind == _HEX:
        return _hex(text)
    if kind == _REAL:
        return float(text)
    if kind == _STR:
        return _string(text)
    if kind in (_OPEN, _CLOSE, _QUOTE):
        return _SYMBOLS[text]
    raise Unsupported(f"byte {text!r} where pdfminer's tokenizer has its own ways")


def tokens(data: bytes, joins: list[int] | None = None) -> list:
    """The objects pdfminer's content parser yields for ``data``, in order (arrays and dictionaries
    built), or :class:`Unsupported` where its syntax is not one of the plain forms. ``joins`` are the
    offsets where one stream of a page ended and the next began: no string may run across one
    (pdfminer's parser reads such a string its own way)."""
    top: list = [None]
    stack = [top]
    current = top
    append = top.append
    keywords = _KEYWORDS
    for match in _TOKEN.finditer(data):
        kind = match.lastindex
        if kind is None:
            continue  # a lone >, or the end
        text = match[kind]
        if kind == _KW:  # the kinds in the order of how often a page has them
            value = keywords.get(text)
            if value is None:
                value = _keyword(text)
            if value in _INLINE_IMAGE:
                raise Unsupported("inline image")
            append(value)
        elif kind == _INT:
            append(int(text))
        elif kind == _REAL:
            append(float(text))
        elif kind == _NAME:
            append(_name(text))
        elif kind == _STR:
            if joins and any(match.start(kind) < j < match.end(kind) for j in joins):
                raise Unsupported("string across two streams")
            append(_string(text))
        elif kind == _HEX:
            append(_hex(text))
        elif kind == _QUOTE:
            append(KWD(text))
        elif kind == _OPEN:
            current = [_DICT_BEGIN if text == b"<<" else _ARRAY_BEGIN]
            stack.append(current)
            append = current.append
        elif kind == _CLOSE:
            current = _close(stack, text)
            append = current.append
        else:
            raise Unsupported(f"byte {text!r} where pdfminer's parser has its own ways")
    if len(stack) != 1:
        raise Unsupported("unclosed brackets")
    return top[1:]


def joined(datas) -> tuple[bytes, list[int]]:
    """The streams of a page as pdfminer's parser reads them: one after the other, a line end
    between two (it ends a token cut at the end of a stream; empty streams are passed over), and the
    offsets of those line ends. Where a stream ends in the middle of a name, a hex string or ``>>``,
    its parser goes on into the next stream instead: :class:`Unsupported`."""
    datas = [d for d in datas if d]
    if any(d[-1:] in (b"/", b"<", b">") for d in datas[:-1]):
        raise Unsupported("a stream ends inside a token")
    joins, offset = [], -1
    for d in datas[:-1]:
        offset += len(d) + 1
        joins.append(offset)
    return b"\n".join(datas), joins


class FastInterpreter(PDFPageInterpreter):
    """pdfminer's interpreter whose content streams are read by :func:`tokens` where they can be."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._operators: dict[PSKeyword, tuple] = {}  # keyword -> (bound do_ method or None, its arity)

    def execute(self, streams) -> None:
        valid = self._streams(streams)
        if valid is None:
            return super().execute(streams)
        try:
            objects = tokens(*joined(s.get_data() for s in valid))
        except Unsupported:
            return super().execute(streams)
        self.stream_ids.clear()
        for s in valid:
            self.stream_ids.add(s.objid)
        self._run(objects)

    def _streams(self, streams) -> list[PDFStream] | None:
        """The streams pdfminer would read, or None where it would skip or refuse one (it warns)."""
        valid = []
        for obj in streams:
            stream = stream_value(obj)
            if stream.objid is None or stream.objid in self.parent_stream_ids:
                return None
            valid.append(stream)
        return valid

    def _run(self, objects: list) -> None:
        """The operators applied to their operands as ``PDFPageInterpreter.execute`` does."""
        operators = self._operators
        push = self.argstack.append
        for obj in objects:
            if obj.__class__ is not PSKeyword:
                push(obj)
                continue
            entry = operators.get(obj)
            if entry is None:
                entry = operators[obj] = self._operator(obj)
            func, nargs = entry
            if func is None:
                continue  # pdfminer ignores unknown operators (outside its strict mode)
            if nargs:
                args = self.pop(nargs)
                push = self.argstack.append  # pop() gives the interpreter a new stack
                if len(args) == nargs:
                    func(*args)
            else:
                func()
            push = self.argstack.append  # an operator may set a new stack too (a form's own)

    def _operator(self, keyword: PSKeyword) -> tuple:
        """The method pdfminer calls for an operator, and how many operands it takes."""
        name = keyword_name(keyword)
        method = "do_" + name.replace("*", "_a").replace('"', "_w").replace("'", "_q")
        if not hasattr(self, method):
            return None, 0
        func = getattr(self, method)
        return func, func.__code__.co_argcount - 1
