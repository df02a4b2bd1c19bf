from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.knowledge import domain
from pipeline.extract.align import align
from pipeline.knowledge.domain import Column
from pipeline.ingest.readers import Cell
from pipeline.extract.stream import Stream

APPLICANTS = domain.layout("2021", "requests")[0].columns  # 7 columns
ITEMS_2019 = domain.layout("2019", "proactive")[2].columns  # prev_year_items, change (signed), decisions
PROCUREMENT = domain.layout("2019", "proactive")[7].columns  # items, amount (money)


def tokens_of(*cell_texts: str, structured: bool = False):
    cells = [Cell(t, t, i + 1, i + 1, 0 if structured else None, structured) for i, t in enumerate(cell_texts)]
    stream = Stream(cells)
    tokens, _ = stream.tokens(0, len(stream.compact))
    return tokens


def values(alignment):
    return [(r.status, r.value) for r in alignment.readings]


def test_exact_count_is_placed_in_order():
    result = align(tokens_of("3", "0", "0", "0", "1", "0", "4"), APPLICANTS, run_together=False)
    assert [v for _, v in values(result)] == [3, 0, 0, 0, 1, 0, 4]


def test_short_row_without_column_positions_is_ambiguous_not_guessed():
    result = align(tokens_of("0", "0", "0", "0", "1"), APPLICANTS, run_together=False)
    assert {s for s, _ in values(result)} == {"ambiguous"}
    assert "5 values for 7 cells" in result.readings[0].evidence


def test_structured_empty_cells_that_make_up_the_count_are_blanks():
    toks = tokens_of("258", "3", "", "", "", "", "", structured=True)
    result = align(toks, APPLICANTS, run_together=False)
    assert values(result) == [("reported", 258), ("reported", 3)] + [("blank", None)] * 5


def test_placeholders_are_blank_not_zero():
    result = align(tokens_of("-", "/", "—", "无", "0", "0", "0"), APPLICANTS, run_together=False)
    assert [s for s, _ in values(result)] == ["blank"] * 4 + ["reported"] * 3


def test_surplus_values_all_equal_are_determined_otherwise_ambiguous():
    cols = domain.layout("2019", "appeals")[0].columns  # 5 columns
    assert values(align(tokens_of(*["0"] * 6), cols, run_together=False)) == [("reported", 0)] * 5
    assert {s for s, _ in values(align(tokens_of("0", "1", "0", "0", "0", "0"), cols, False))} == {"ambiguous"}


def test_run_together_digits_split_only_where_every_split_agrees():
    # '230 000023' for 7 cells: 23|0 or 2|30 or 230 ... only the three middle zeros are certain
    result = align(tokens_of("230 000023"), APPLICANTS, run_together=True)
    assert [s for s, _ in values(result)][2:5] == ["reported"] * 3
    assert [s for s, _ in values(result)][0] == "ambiguous"
    assert align(tokens_of("7000007"), APPLICANTS, run_together=True).readings[0].value == 7


def test_run_together_signs_only_in_the_signed_column_and_decimals_only_in_money():
    result = align(tokens_of("2648-18538"), ITEMS_2019, run_together=True)
    assert values(result)[0] == ("reported", 2648)
    assert [s for s, _ in values(result)][1:] == ["ambiguous", "ambiguous"]
    money = align(tokens_of("11297.17万元"), PROCUREMENT, run_together=True)
    assert {s for s, _ in values(money)} == {"ambiguous"}  # 1|1297.17, 11|297.17, 112|97.17 ...
    sure = align(tokens_of("0 0.5元"), PROCUREMENT, run_together=True)
    assert values(sure) == [("reported", 0), ("reported", 0.5)]
    assert sure.readings[1].unit == "元"


def test_tokens_stop_at_text_after_the_values():
    toks = tokens_of("1", "2", "注:2019年的数据", "5")
    assert [t.text for t in toks] == ["1", "2"]


def test_units_signs_and_thousands_separators_are_read():
    toks = tokens_of("297.17万元", "+20", "-8", "1,234")
    assert [t.text for t in toks] == ["297.17万元", "+20", "-8", "1,234"]
    columns = (Column("amount", "", False, True), Column("change", "", True, False),
               Column("change2", "", True, False), Column("count", "", False, False))
    result = align(toks, columns, run_together=False)
    assert [r.value for r in result.readings] == [297.17, 20, -8, 1234]
    assert result.readings[0].unit == "万元"


def test_a_negative_number_in_a_count_column_is_not_taken_as_a_count():
    result = align(tokens_of("3", "-8"), APPLICANTS[:2], run_together=False)
    assert [(r.status, r.value, r.printed) for r in result.readings] == [("reported", 3, None), ("ambiguous", None, -8)]


def test_a_label_number_glued_to_the_values_is_not_a_value():
    assert [t.text for t in tokens_of("0 0 4.无正当理由的大量反复申请")] == ["0", "0"]
    assert [t.text for t in tokens_of("00000004.无正当理由")] == ["0000000"]
    assert [t.text for t in tokens_of("12.5 3")] == ["12.5", "3"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([APPLICANTS, ITEMS_2019, PROCUREMENT]).flatmap(
    lambda columns: st.tuples(st.just(columns), st.lists(
        st.sampled_from(["0", "7", "10", "012", "123", "-3", "+4", "1.5", "0.25", "12.50万元", "3万元", "1,234",
                         "1,2", "-", "/", "无", "9999"]),
        min_size=len(columns), max_size=len(columns)))))
def test_as_many_run_together_tokens_as_columns_split_one_cell_each_as_the_search_finds(case):
    from pipeline.extract.align import _search_splits, enumerate_splits

    columns, texts = case
    tokens = tokens_of(" ".join(texts))
    if len(tokens) != len(columns):  # a text the stream reads as more or fewer tokens
        return
    assert enumerate_splits(tokens, columns) == _search_splits(tokens, columns)
