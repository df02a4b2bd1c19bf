from pipeline.extract.metadata import read_metadata


def test_title_gives_agency_and_year():
    meta = read_metadata(["衡阳市人民政府办公室 2019年政府信息公开年度报告", "发布时间:2020-03-25"])
    assert (meta.agency, meta.year) == ("衡阳市人民政府办公室", 2019)


def test_short_town_name_gets_the_place_prefix_printed_elsewhere():
    lines = [
        "您当前所在位置: 首页>政务公开>乡镇信息公开>独城镇>政府信息公开年报",
        "独城镇2020年政府信息公开工作年度报告",
        "如对本报告有任何疑问,请与独城镇党政办联系(地址:高安市独城镇独新路27号)。",
        "年报下载: 高安市独城镇人民政府办公室2020年政府信息公开工作年度报告.doc",
    ]
    meta = read_metadata(lines)
    assert (meta.agency, meta.year) == ("高安市独城镇", 2020)


def test_district_title_on_two_lines_gets_its_city():
    lines = ["- 1 -", "洪泽区人民政府", "2023 年政府信息公开工作年度报告",
             "本报告由淮安市洪泽区人民政府办公室根据《条例》要求编制。请与淮安市洪泽区人民政府办公室联系。"]
    meta = read_metadata(lines)
    assert (meta.agency, meta.year) == ("淮安市洪泽区人民政府", 2023)


def test_county_names_in_an_seo_footer_do_not_become_prefixes():
    lines = ["新区镇2021年政府信息公开工作年度报告",
             "主站蜘蛛池模板: 荣昌县| 襄汾县新区镇| 大城县| 汤阴县| 高唐县"]
    assert read_metadata(lines).agency == "新区镇"


def test_report_without_title_uses_the_body_sentence():
    lines = ["附件", "一、总体情况", "2021年,双柏县政务服务管理局紧紧围绕县委决策部署,严格按照要求。"]
    meta = read_metadata(lines)
    assert (meta.agency, meta.year) == ("双柏县政务服务管理局", 2021)


def test_report_year_not_publication_year():
    lines = ["标题: 平潭综合实验区2019年度政府信息公开工作年度报告", "发布时间: 2020-01-20 15:22"]
    assert read_metadata(lines).year == 2019


def test_title_with_the_year_before_the_agency():
    meta = read_metadata(["2022年渭南市临渭区财政局政府信息公开工作年度报告", "一、总体情况"])
    assert (meta.agency, meta.year) == ("渭南市临渭区财政局", 2022)
