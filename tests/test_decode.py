import codecs

from pipeline.ingest.decode import decode

TEXT = "三、收到和处理政府信息公开申请情况\n一、本年新收政府信息公开申请数量 1\n"


def test_utf8_with_and_without_bom():
    assert decode(TEXT.encode("utf-8"), "a.txt").text == TEXT
    decoded = decode(codecs.BOM_UTF8 + TEXT.encode("utf-8"), "a.txt")
    assert decoded.text == TEXT and decoded.encoding == "utf-8-bom"


def test_gbk_and_utf16_are_detected():
    long_text = TEXT * 20
    gbk = decode(long_text.encode("gbk"), "a.txt")
    assert gbk.text == long_text and gbk.encoding.lower().replace("-", "") in {"gb18030", "gbk", "gb2312"}
    utf16 = decode(long_text.encode("utf-16"), "a.txt")
    assert utf16.text == long_text and utf16.encoding == "utf-16"


def test_formats_are_sniffed_from_content_and_name():
    assert decode(b"<html><body><table><tr><td>1</td></tr></table></body></html>", "x").format == "html"
    assert decode("# 标题\n正文".encode(), "report.md").format == "markdown"
    assert decode(b"%PDF-1.7\n...", "r.pdf").format == "pdf"
    assert decode(b"PK\x03\x04" + b"\x00" * 40 + b"word/document.xml", "r.docx").format == "docx"


def test_empty_and_binary_inputs_have_a_reason():
    empty = decode(b"  \n", "e.txt")
    assert empty.text is None and empty.format == "empty" and "empty" in empty.problem
    binary = decode(bytes(range(256)) * 50, "b.bin")
    assert binary.text is None and binary.problem
