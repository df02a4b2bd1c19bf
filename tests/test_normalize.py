from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.normalize import is_traditional, normalize_text, raw_span


def test_pinyin_annotations_after_han_characters_are_removed():
    assert normalize_text("政務(wù)服務(wù)管理局", traditional=True) == "政务服务管理局"


def test_toneless_repeated_and_truncated_pinyin_is_removed():
    assert normalize_text("公(gong)(gong)開(kai)(kai)", traditional=True) == "公开"
    assert normalize_text("發(f", traditional=True) == "发"


def test_brackets_after_non_han_text_are_kept():
    assert normalize_text("第(一)项 abc(def)", traditional=False) == "第(一)项 abc(def)"


def test_full_width_digits_brackets_and_spaces_become_ascii():
    assert normalize_text("（七）总计　１２３", traditional=False) == "(七)总计 123"


def test_simplified_text_is_not_converted_when_not_traditional():
    # t2s would turn 乾县 into 干县: conversion is decided per document, not applied blindly
    assert normalize_text("乾县人民政府", traditional=False) == "乾县人民政府"


def test_traditional_script_is_detected_and_simplified_is_not():
    assert is_traditional("衡陽市人民政府辦公室政府信息公開年度報告，收到依申請公開事項49件。")
    assert not is_traditional("衡阳市人民政府办公室政府信息公开年度报告，收到依申请公开事项49件。")


def test_raw_span_maps_normalized_offsets_back_to_the_source():
    raw = "規範性文件８８５５６９８第二十條"
    norm = normalize_text(raw, traditional=True)
    start = norm.index("8855698")
    assert raw_span(raw, True, start, start + 7) == "８８５５６９８"
    raw = "服務(wù)中心12件"
    norm = normalize_text(raw, True)
    start = norm.index("12")
    assert raw_span(raw, True, start, start + 3) == "12件"


def _offsets_char_by_char(raw: str) -> list[int] | None:
    """The definition of the offset map, one character at a time: each character outside a pinyin
    annotation gives as many normalized characters as NFKC makes of it (private-use ones dropped)."""
    import unicodedata

    from pipeline.ingest.normalize import _PRIVATE_USE, PINYIN_JUNK

    junk = {i for m in PINYIN_JUNK.finditer(raw) for i in range(*m.span())}
    out = []
    for i, ch in enumerate(raw):
        if i not in junk:
            out.extend([i] * len(_PRIVATE_USE.sub("", unicodedata.normalize("NFKC", ch))))
    return out


@settings(max_examples=400, deadline=None)
# (no combining marks: NFKC composes them with the character before, which no per-character map follows)
@given(st.text(alphabet="a(b)务(wù)公gong發f１２，（）　\ue001ﬁ①㎡é。、“”《》Ⅻ\t 9", max_size=40))
def test_the_offset_map_follows_each_character_to_the_normalized_text(raw):
    from pipeline.ingest.normalize import _offset_map

    offsets = _offset_map(raw)
    expected = _offsets_char_by_char(raw)
    if offsets is None:  # said to line up: the normalized text is the raw text, character for character
        assert expected == list(range(len(raw)))
    else:
        assert list(offsets) == expected
    assert len(expected) == len(normalize_text(raw, traditional=False))
