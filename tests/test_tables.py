from conftest import pipe_report_2021, requests_values

from pipeline.readers import read_document
from pipeline.tables import read_tables


def readings(table, row):
    return [(r.status, r.value) for r in table.rows[row].alignment.readings]


def test_pipe_report_tables_templates_and_values_are_read():
    values = requests_values(seed=3)
    tables = read_tables(read_document(pipe_report_2021(values), "text"))
    assert tables.template == "2021"
    assert tables.proactive.found and tables.requests.found and tables.appeals.found
    for code, expected in values.items():
        assert [v for _, v in readings(tables.requests, code)] == expected, code
    assert [v for _, v in readings(tables.proactive, "administrative_fees")] == [12.5]
    assert [v for _, v in readings(tables.appeals, "review")] == [1, 0, 1, 0, 2]
    assert [v for _, v in readings(tables.appeals, "litigation_direct")] == [0, 0, 0, 1, 1]
    assert not tables.requests.missing_rows and not tables.proactive.missing_rows


ONE_CELL_PER_LINE_2019 = """某镇2020年政府信息公开工作年度报告
二、主动公开政府信息情况
第二十条第(一)项
信息内容
本年新制作数量
本年新公开数量
对外公开总数量
规    章
0
0
0
规范性文件(本单位制发的)
1
1
4
第二十条第(五)项
信息内容
上一年项目数量
本年增/减
处理决定数量
行政许可
5
+2
30
其他对外管理服务事项
0
-1
0
第二十条第(六)项
行政处罚
0
0
0
行政强制
0
0
0
第二十条第(八)项
行政事业性收费
0
0
第二十条第(九)项
信息内容
采购项目数量
采购总金额
政府集中采购
3
2792220.8元
三、收到和处理政府信息公开申请情况
一、本年新收政府信息公开申请数量
1
0
0
0
0
0
1
(七)总计
0
0
1
四、政府信息公开行政复议、行政诉讼情况
行政复议
结果维持
0
0
0
0
0
0
0
0
0
0
0
0
0
0
0
0
五、存在的主要问题及改进情况
"""


def test_2019_template_with_label_tails_signs_and_units():
    tables = read_tables(read_document(ONE_CELL_PER_LINE_2019, "text"))
    assert tables.template == "2019"
    assert readings(tables.proactive, "normative_documents") == [("reported", 1), ("reported", 1), ("reported", 4)]
    assert readings(tables.proactive, "administrative_licensing") == [("reported", 5), ("reported", 2), ("reported", 30)]
    assert readings(tables.proactive, "other_management_services")[1] == ("reported", -1)
    amount = tables.proactive.rows["centralized_procurement"].alignment.readings[1]
    assert (amount.value, amount.unit) == (2792220.8, "元")
    # a short 总计 row is not guessed, and missing rows are reported as missing
    assert {s for s, _ in readings(tables.requests, "total")} == {"ambiguous"}
    assert "granted" in tables.requests.missing_rows
    # 16 zeros for 15 appeal cells: every placement gives zeros
    assert readings(tables.appeals, "litigation_after_review") == [("reported", 0)] * 5


def test_hybrid_2021_report_with_a_single_other_processing_row():
    text = pipe_report_2021().replace(
        "（六）其他处理 | 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理")
    lines = [l for l in text.splitlines() if not l.startswith(("2.申请人逾期", "3.其他"))]
    tables = read_tables(read_document("\n".join(lines), "text"))
    assert tables.template == "2021"
    assert [s for s, _ in readings(tables.requests, "other_processing")] == ["reported"] * 7
    assert {s for s, _ in readings(tables.requests, "other_other")} == {"ambiguous"}


def test_flattened_text_without_separators_uses_digit_run_splitting_and_row_sums():
    text = ("二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章000"
            "行政规范性文件8855698第二十条第（五）项 三、收到和处理政府信息公开申请情况"
            "一、本年新收政府信息公开申请数量230 000023二、上年结转政府信息公开申请数量0000000"
            "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计"
            "000000000000000五、存在的主要问题")
    tables = read_tables(read_document(text, "text"))
    assert tables.run_together
    assert readings(tables.proactive, "regulations") == [("reported", 0)] * 3
    assert {s for s, _ in readings(tables.proactive, "normative_documents")} == {"ambiguous"}
    # only 23|0|0|0|0|0|23 makes 总计 equal the sum of the six applicant columns
    assert [v for _, v in readings(tables.requests, "new_received")] == [23, 0, 0, 0, 0, 0, 23]
    evidence = tables.requests.rows["new_received"].alignment.readings[0].evidence
    assert "R2_row_total" in evidence
    assert readings(tables.appeals, "review") == [("reported", 0)] * 5


def test_added_subtotal_column_is_checked_and_left_out():
    values = requests_values(seed=2)
    text = pipe_report_2021(values)
    lines = []
    for line in text.splitlines():
        cells = line.split(" | ")
        label_cells = [c for c in cells if not c.strip().isdigit()]
        numbers = [c for c in cells if c.strip().isdigit()]
        if len(numbers) == 7 and "三、" not in line[:2] and "第二十条" not in line:
            subtotal = sum(int(n) for n in numbers[1:6])
            numbers = numbers[:6] + [str(subtotal)] + numbers[6:]
            line = " | ".join(label_cells + numbers)
        lines.append(line.replace("| 其他", "| 其他 | 小计"))
    tables = read_tables(read_document("\n".join(lines), "text"))
    for code, expected in values.items():
        assert [v for _, v in readings(tables.requests, code)] == expected, code
    assert any("subtotal" in note for note in tables.requests.notes)


def test_prose_mentioning_table_labels_before_the_table_is_not_read_as_the_table():
    text = pipe_report_2021().replace(
        "一、总体情况\n", "一、总体情况\n本年新收政府信息公开申请数量为17件，均已办结。\n")
    tables = read_tables(read_document(text, "text"))
    assert [v for _, v in readings(tables.requests, "new_received")] == requests_values()["new_received"]


def test_table_4_printed_in_two_parts_with_their_own_headers():
    text = pipe_report_2021()
    start, end = text.index("四、政府信息公开行政复议"), text.index("五、存在的主要问题")
    split_table = ("四、政府信息公开行政复议、行政诉讼情况\n行政复议\n结果维持 结果纠正 其他结果 尚未审结 总计\n"
                   "1 0 1 0 2\n行政诉讼\n未经复议直接起诉 复议后起诉\n"
                   "结果维持 结果纠正 其他结果 尚未审结 总计 结果维持 结果纠正 其他结果 尚未审结 总计\n"
                   "0 0 0 1 1 0 0 0 0 0\n")
    tables = read_tables(read_document(text[:start] + split_table + text[end:], "text"))
    assert [v for _, v in readings(tables.appeals, "review")] == [1, 0, 1, 0, 2]
    assert [v for _, v in readings(tables.appeals, "litigation_direct")] == [0, 0, 0, 1, 1]
    assert [v for _, v in readings(tables.appeals, "litigation_after_review")] == [0, 0, 0, 0, 0]


def test_a_note_after_table_4_is_not_read_as_values():
    text = pipe_report_2021().replace("五、存在的主要问题及改进情况", "注：2022年行政复议2件均已办结。\n五、存在的主要问题及改进情况")
    tables = read_tables(read_document(text, "text"))
    assert [v for _, v in readings(tables.appeals, "review")] == [1, 0, 1, 0, 2]
