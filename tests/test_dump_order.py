"""PDF text dumps whose header words and labels are broken and interleaved with the values.

The texts below are written the way pdfplumber and pypdf lay out a narrow-celled Word table: header
words one character per line in another order, labels cut into pieces around their row's numbers,
a count glued to a label fragment, Table 4's fifteen numbers on one line under a jumble of header
characters. The reader takes such a table in template order only when the table's own sums prove it
(R4 in every block of Table 4; R2 on every row and R1, R3 in every column of Table 3) and says so in
``evidence``; otherwise the cells stay ambiguous.
"""

from __future__ import annotations

from conftest import requests_values

from pipeline.extract.tables import read_tables
from pipeline.ingest.readers import read_document

HEAD = """测试县某某局2022年政府信息公开工作年度报告
一、总体情况
2022年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。
二、主动公开政府信息情况
第二十条第（一）项
信息内容 本年制发件数 本年废止件数 现行有效件数
规章 0 0 0
行政规范性文件 3 1 12
第二十条第（五）项
信息内容 本年处理决定数量
行政许可 120
第二十条第（六）项
信息内容 本年处理决定数量
行政处罚 7
行政强制 0
第二十条第（八）项
信息内容 本年收费金额（单位：万元）
行政事业性收费 12.5
三、收到和处理政府信息公开申请情况
申请人情况
（本列数据的勾稽关系为：第一项 法人或其他组织
加第二项之和，等于第三项加第四
社 会
自然人 商业 科研 法律服务 总计
项之和）
公 益 其他
企业 机构 机构
组织
"""

# Table 3 as pdfplumber prints a table whose label cells are narrow: {code} is the row's numbers.
TABLE3_BROKEN = """一、本年新收政府信息公开申请数
{new_received}
量
二、上年结转政府信息公开申请数
{carried_over}
量
三、本年度（一）予以公开 {granted}
办理结果 （二）部分公开（区分
处理的，只计这一情{partially_granted}
形，不计其他情形）
（三）1.属于国家秘
{denied_state_secret}
不予公密
开 2.其他法律行
政法规禁止公{denied_prohibited_by_law}
开
3.危及“三安 {denied_three_safeties}
全一稳定”
4.保护第三方
{denied_third_party}
合法权益
5.属于三类内
{denied_internal_affairs}
部事务信息
6.属于四类过
{denied_process_info}
程性信息
7.属于行政执
{denied_enforcement_file}
法案卷
8.属于行政查
{denied_inquiry}
询事项
1.本机关不掌
握相关政府信{unable_not_held}
息
（四）
2.没有现成信
无法提
息需要另行制{unable_needs_creation}
供
作
3.补正后申请
{unable_unclear}
内容仍不明确
1.信访举报投
{ignored_petition}
诉类申请
2.重复申请 {ignored_duplicate}
3.要求提供公
{ignored_publication}
（五）开出版物
不予处4.无正当理由
{ignored_excessive}
理 大量反复申请
5. 要求行政机
关确认或重新
{ignored_confirm}
出具已获取信
息
（六） 1. 申请人无正
其他处当理由逾期不
理 补正、行政机
{other_no_correction}
关不再处理其
政府信息公开
申请
2. 申请人逾期 {other_unpaid_fee}
未按收费通知
要 求 缴 纳 费
用、行政机关
不再处理其政
府信息公开申
请
3.其他 {other_other}
（七）总计 {total}
四、结转下年度继续办理 {carried_forward}
"""

TABLE4_HEAD = """四、政府信息公开行政复议、行政诉讼情况
行政复议 行政诉讼
未经复议直接起诉 复议后起诉
"""

# Table 4's header words one character per column, lines in the order pdfplumber sorts them
TABLE4_CHARACTERS = """结 其 尚
结果维 果 他 未 总 结 结 其 尚 结 结 其 尚
持 纠 结 审 计 果 果 他 未 总 果 果 他 未 总
正 果 结 维 纠 结 审 计 维 纠 结 审 计
持 正 果 结 持 正 果 结
{appeals}
"""

TAIL = """五、存在的主要问题及改进情况
一是公开内容还需丰富。
六、其他需要报告的事项
无。
"""

APPEALS = [2, 1, 3, 1, 7, 0, 0, 0, 0, 0, 13, 2, 4, 0, 19]


def numbers(values) -> str:
    return " ".join(str(v) for v in values)


def dump(values: dict[str, list[int]] | None = None, appeals=APPEALS, table3: str = TABLE3_BROKEN,
         table4: str = TABLE4_CHARACTERS) -> str:
    values = values or requests_values()
    body = table3.format(**{code: numbers(v) for code, v in values.items()})
    return HEAD + body + TABLE4_HEAD + table4.format(appeals=numbers(appeals)) + TAIL


def read(text: str):
    return read_tables(read_document(text, "text"))


def cells(table, row):
    return [(r.status, r.value) for r in table.rows[row].alignment.readings]


def statuses(table, row) -> set[str]:
    """The statuses of a row's cells; a row whose label was not found gives ambiguous cells."""
    if row in table.missing_rows:
        return {"ambiguous"}
    return {s for s, _ in cells(table, row)}


def values_of(table, row):
    return [r.value for r in table.rows[row].alignment.readings]


def test_other_other_is_not_read_from_the_broken_group_label_of_other_processing():
    """（六）其他处理 cut into （六） / 其他处 / 理: its 其他 is not the label 3.其他 (whose row is further down)."""
    values = requests_values()
    values["other_no_correction"] = [2, 0, 0, 0, 0, 0, 2]
    values["other_other"] = [0, 2, 0, 0, 0, 0, 2]
    tables = read(dump(values))
    assert values_of(tables.requests, "other_other") == [0, 2, 0, 0, 0, 0, 2]


# --- Table 4 --------------------------------------------------------------------------------------

def test_table4_under_header_characters_is_read_in_template_order_when_r4_holds_in_every_block():
    tables = read(dump())
    assert [values_of(tables.appeals, row) for row in ("review", "litigation_direct", "litigation_after_review")] \
        == [APPEALS[0:5], APPEALS[5:10], APPEALS[10:15]]
    evidence = {r.evidence for row in tables.appeals.rows.values() for r in row.alignment.readings}
    assert evidence == {"read in template order: R4_appeals_total holds for every block"}


def test_table4_stays_ambiguous_when_r4_fails_in_one_block():
    """10 1 0 0 0: the review block's total is not the sum of its outcomes (a real report prints
    this), so the sums do not prove the order."""
    tables = read(dump(appeals=[10, 1, 0, 0, 0] + APPEALS[5:]))
    assert {s for row in tables.appeals.rows.values() for s, _ in cells(tables.appeals, row.code)} == {"ambiguous"}
    assert tables.appeals.rows["litigation_direct"].alignment.readings[0].evidence == (
        "15 values across broken header words, but R4_appeals_total fails for review: their order is not proven")


def test_table4_blocks_on_lines_of_their_own_between_broken_header_words():
    table4 = """行 政 复 议
结 结 其 尚
果 果 他 未 总
维 纠 结 审 计
持 正 果 结
2 1 3 1 7
行 政 诉 讼
未经复议直接起诉 复议后起诉
结 结 其 尚 结 结 其 尚
果 果 他 未 总 果 果 他 未 总
维 纠 结 审 计 维 纠 结 审 计
持 正 果 结 持 正 果 结
0 0 0 0 0 13 2 4 0 19
"""
    tables = read(dump(table4=table4))
    assert values_of(tables.appeals, "review") == [2, 1, 3, 1, 7]
    assert values_of(tables.appeals, "litigation_after_review") == [13, 2, 4, 0, 19]


def test_table4_values_between_header_fragments():
    """Each block's header cut in two, its numbers printed in between (pypdf's content order)."""
    table4 = "结果维 结果纠 其他结 尚未审 总\n2 1 3 1 7\n持 正 果 结 计\n结 结 其 尚\n0 0 0 0 0 13 2 4 0 19\n果 果 他 未 总\n"
    tables = read(dump(table4=table4))
    assert values_of(tables.appeals, "review") == [2, 1, 3, 1, 7]
    assert values_of(tables.appeals, "litigation_direct") == [0, 0, 0, 0, 0]
    assert values_of(tables.appeals, "litigation_after_review") == [13, 2, 4, 0, 19]


def test_table4_with_a_sixteenth_number_stays_ambiguous():
    tables = read(dump(table4=TABLE4_CHARACTERS.replace("{appeals}", "{appeals} 1")))
    assert {s for row in tables.appeals.rows.values() for s, _ in cells(tables.appeals, row.code)} == {"ambiguous"}


def test_table4_with_a_lost_value_stays_ambiguous():
    """Fourteen numbers (the 尚未审结 of the last block lost): however R4 could be made to hold, the
    count does not fit and nothing is placed."""
    tables = read(dump(appeals=APPEALS[:13] + APPEALS[14:]))
    assert {s for row in tables.appeals.rows.values() for s, _ in cells(tables.appeals, row.code)} == {"ambiguous"}


# --- Table 3 --------------------------------------------------------------------------------------

OUTCOMES = ("new_received", "carried_over", "total", "carried_forward")


def balanced(changes: dict[str, list[int]], base: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
    """Table 3 numbers with ``changes`` on its result rows, totals recomputed so R1, R2 and R3 hold."""
    rows = {code: list(v) for code, v in (base or requests_values()).items()}
    rows.update({code: list(v) for code, v in changes.items()})
    for row in rows.values():
        row[6] = sum(row[:6])
    leaves = [c for c in rows if c not in OUTCOMES]
    rows["total"] = [sum(rows[c][i] for c in leaves) for i in range(7)]
    rows["new_received"] = [rows["total"][i] + rows["carried_forward"][i] - rows["carried_over"][i] for i in range(7)]
    return rows


VALUES = balanced({"denied_state_secret": [1, 0, 0, 0, 0, 0, 0], "unable_needs_creation": [0, 3, 0, 0, 0, 1, 0],
                   "ignored_excessive": [4, 0, 0, 0, 0, 0, 0], "other_no_correction": [2, 0, 0, 0, 0, 0, 0],
                   "other_other": [0, 2, 0, 0, 0, 0, 0]})


def test_table3_with_broken_labels_is_read_in_template_order_when_r1_r2_r3_hold():
    tables = read(dump(VALUES))
    for code, expected in VALUES.items():
        assert values_of(tables.requests, code) == expected, code
    assert not tables.requests.missing_rows
    # rows whose labels were found whole keep their reading; the others say what proved them
    assert tables.requests.rows["granted"].alignment.readings[0].evidence is None
    for code in ("denied_state_secret", "unable_needs_creation", "ignored_excessive", "other_no_correction"):
        evidence = {r.evidence for r in tables.requests.rows[code].alignment.readings}
        assert evidence == {"read in template order: R1_balance, R2_row_total, R3_result_total hold for every "
                            "row and column"}, code


def test_table3_stays_ambiguous_when_a_column_sum_fails():
    values = {code: list(v) for code, v in VALUES.items()}
    values["denied_state_secret"] = [2, 0, 0, 0, 0, 0, 2]  # R2 holds on the row, R3 fails in two columns
    tables = read(dump(values))
    assert statuses(tables.requests, "denied_state_secret") == {"ambiguous"}
    assert statuses(tables.requests, "other_no_correction") == {"ambiguous"}


def test_table3_stays_ambiguous_when_a_row_total_fails():
    values = {code: list(v) for code, v in VALUES.items()}
    values["unable_needs_creation"] = [0, 3, 0, 0, 0, 1, 5]  # 3 + 1 is not 5
    tables = read(dump(values))
    assert statuses(tables.requests, "unable_needs_creation") == {"ambiguous"}


def test_table3_with_a_lost_value_stays_ambiguous():
    text = dump(VALUES).replace("\n4 0 0 0 0 0 4\n理 大量反复申请", "\n4 0 0 0 0 4\n理 大量反复申请")
    assert text != dump(VALUES)
    tables = read(text)
    assert statuses(tables.requests, "ignored_excessive") == {"ambiguous"}
    assert statuses(tables.requests, "denied_state_secret") == {"ambiguous"}


def with_subtotal(values: dict[str, list[int]], after_first: bool) -> dict[str, list[int]]:
    """Each row printed with an added 法人或其他组织 subtotal column (after 自然人 or before 总计)."""
    out = {}
    for code, row in values.items():
        group = sum(row[1:6])
        out[code] = row[:1] + [group] + row[1:] if after_first else row[:6] + [group] + row[6:]
    return out


def test_table3_with_an_added_subtotal_column_is_read_when_the_subtotal_and_the_sums_hold():
    for after_first in (True, False):
        tables = read(dump(with_subtotal(VALUES, after_first)))
        for code, expected in VALUES.items():
            assert values_of(tables.requests, code) == expected, (after_first, code)
        evidence = tables.requests.rows["ignored_excessive"].alignment.readings[0].evidence
        assert evidence.startswith("read in template order: R1_balance, R2_row_total, R3_result_total hold")
        assert "subtotal" in evidence


def test_table3_with_an_eighth_value_that_is_no_subtotal_stays_ambiguous():
    values = with_subtotal(VALUES, after_first=False)
    values["unable_needs_creation"][6] = 3  # the 法人或其他组织 group holds 4 in this row
    tables = read(dump(values))
    assert statuses(tables.requests, "unable_needs_creation") == {"ambiguous"}


def test_numbers_of_several_rows_on_one_line_after_their_labels():
    """The eight 不予公开 rows' labels one per line, then all their numbers on one line."""
    denied = [c for c in VALUES if c.startswith("denied_")]
    start = TABLE3_BROKEN.index("（三）1.属于国家秘")
    end = TABLE3_BROKEN.index("1.本机关不掌")
    labels = "（三）不予公开\n1.属于国家秘密\n2.其他法律行政法规禁止公开\n3.危及“三安全一稳定”\n4.保护第三方合法权益\n" \
             "5.属于三类内部事务信息\n6.属于四类过程性信息\n7.属于行政执法案卷\n8.属于行政查询事项\n"
    table3 = TABLE3_BROKEN[:start] + labels + " ".join("{" + c + "}" for c in denied) + "\n" + TABLE3_BROKEN[end:]
    tables = read(dump(VALUES, table3=table3))
    for code in denied:
        assert values_of(tables.requests, code) == VALUES[code], code
        assert "R3_result_total" in tables.requests.rows[code].alignment.readings[0].evidence


def test_a_label_next_to_another_rows_numbers_is_not_trusted_when_the_template_order_disagrees():
    """pdfplumber prints a row's numbers on the line before its label: 2.重复申请 is followed by the
    next row's numbers. The table's sums prove the template order, which disagrees with that label's
    reading: the row becomes ambiguous instead of taking its neighbour's numbers."""
    values = balanced({"ignored_duplicate": [1, 0, 0, 0, 0, 0, 0], "ignored_publication": [0, 0, 1, 0, 0, 0, 0]},
                      VALUES)
    table3 = TABLE3_BROKEN.replace("诉类申请\n2.重复申请 {ignored_duplicate}\n3.要求提供公\n{ignored_publication}\n",
                                   "诉类申请\n{ignored_duplicate}\n2.重复申请 {ignored_publication}\n3.要求提供公\n")
    assert table3 != TABLE3_BROKEN
    tables = read(dump(values, table3=table3))
    assert statuses(tables.requests, "ignored_duplicate") == {"ambiguous"}
    evidence = tables.requests.rows["ignored_duplicate"].alignment.readings[0].evidence
    assert evidence.startswith("the numbers after the label and the template order of the table")
    assert statuses(tables.requests, "ignored_publication") == {"ambiguous"}


def test_hybrid_table3_with_a_single_other_processing_row_is_checked_with_that_row():
    """A 2021 report printing the 2019-style single （六）其他处理 row: the 23 printed rows are read in
    template order (R3 sums that row), the three 2021 sub-rows stay not printed."""
    values = {c: v for c, v in VALUES.items() if not c.startswith("other_")}
    values["other_processing"] = [sum(VALUES[c][i] for c in ("other_no_correction", "other_unpaid_fee",
                                                              "other_other")) for i in range(7)]
    start = TABLE3_BROKEN.index("（六） 1. 申请人无正")
    end = TABLE3_BROKEN.index("（七）总计")
    table3 = TABLE3_BROKEN[:start] + "（六）其他\n{other_processing}\n处理\n" + TABLE3_BROKEN[end:]
    tables = read(dump(values, table3=table3))
    for code, expected in values.items():
        assert values_of(tables.requests, code) == expected, code
    assert statuses(tables.requests, "other_other") == {"not_printed"}
    assert "R3_result_total" in tables.requests.rows["ignored_excessive"].alignment.readings[0].evidence
