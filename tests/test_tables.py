from conftest import pipe_report_2021, requests_values

from pipeline.ingest.readers import read_document
from pipeline.extract.tables import read_tables


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
    assert {s for s, _ in readings(tables.requests, "other_other")} == {"not_printed"}  # the 2021 sub-rows are not in this table: nothing left unread


def test_flattened_text_without_separators_uses_digit_run_splitting_and_row_sums():
    text = ("二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章000"
            "行政规范性文件8855698第二十条第（五）项 三、收到和处理政府信息公开申请情况"
            "一、本年新收政府信息公开申请数量230 000023二、上年结转政府信息公开申请数量0000000三、本年度办理结果（一）予以公开7000007"
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
    assert [v for _, v in readings(tables.requests, "granted")] == [7, 0, 0, 0, 0, 0, 7]


def test_two_labels_on_one_line_of_a_pdf_dump_do_not_make_digits_splittable():
    values = requests_values()
    values["granted"] = [16, 0, 0, 0, 0, 0, 16]
    lines = pipe_report_2021(values).replace(" | ", " ").splitlines()
    i = next(k for k, line in enumerate(lines) if "1.本机关不掌握" in line)
    lines[i:i + 2] = [lines[i] + " " + lines[i + 1]]  # two rows on one line, as PDF dumps do
    lines = [line.replace("16 0 0 0 0 0 16", "16 0 0 0 0 16") for line in lines]  # one cell lost
    tables = read_tables(read_document("\n".join(lines), "text"))
    assert not tables.run_together
    # the short row stays ambiguous: splitting 16 into 1|6 would invent cells
    assert {s for s, _ in readings(tables.requests, "granted")} == {"ambiguous"}
    assert [v for _, v in readings(tables.requests, "unable_not_held")] == values["unable_not_held"]


def _as_built_by_the_class(item):
    """The same named tuple built through its class, field by field: differs when a fast-built one
    (``tuple.__new__``) misses or misplaces a field."""
    return type(item)(**item._asdict())


def test_named_tuples_built_fast_on_the_hot_path_have_every_field_in_place():
    from pipeline.extract.facts import table_facts

    text = pipe_report_2021(requests_values(seed=5)) + "\n总计\t7\n一二三四五 8\n"
    doc = read_document(text, "text")
    tables = read_tables(doc)
    facts = table_facts(tables)
    readings_ = [r for t in tables.all() for row in t.rows.values() for r in row.alignment.readings]
    tokens = [r.token for r in readings_ if r.token is not None]
    for kind, items in (("cells", doc.cells), ("facts", facts), ("readings", readings_), ("tokens", tokens)):
        assert len(items) > 20, kind
        for item in items:
            assert len(item) == len(type(item)._fields), (kind, item)
            assert item == _as_built_by_the_class(item), (kind, item)
    assert {c.structured for c in doc.cells} == {True, False}  # both kinds of text cell were built
    assert any(f.status == "reported" and f.raw for f in facts)
