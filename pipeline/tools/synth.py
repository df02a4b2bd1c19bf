"""Synthetic reports with known truth, for tests and the benchmark.

Seeded and deterministic: ``generate(seed, n)`` always yields the same reports. Each report has
random but plausible numbers (Table 3 balanced per column unless a rule is broken on purpose), is laid
out in one of the layouts the reader handles (one cell per line, pipes, tabs, markdown, HTML with
rowspan/colspan, flattened text with spaces), optionally in traditional script with pinyin junk, with
blanks, and in one of several encodings. ``truth`` lists every cell as the reader must return it.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from functools import cache

from pipeline.knowledge import domain, labels

LAYOUTS = ("lines", "pipes", "tabs", "markdown", "csv", "html", "flat")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16")

# The labels as the official template prints them (knowledge/data/printed_labels.csv, label_groups.csv).
T3_LABELS = {code: labels.printed_label("requests", "row", code) for code in labels.printed_codes("requests", "row")}
_SUB_GROUPS = [g for g in labels.groups() if (g.section, g.axis) == ("requests", "row") and g.parent]
# group label printed before its first row, and how many rows it spans (for HTML rowspans)
T3_GROUPS = {labels.group_members("requests", g.group)[0]: (g.label_zh, len(labels.group_members("requests", g.group)))
             for g in _SUB_GROUPS}
RESULTS_STUB = next(g.label_zh for g in labels.groups() if (g.section, g.axis) == ("requests", "row") and not g.parent)
T2_CAPTIONS = {labels.group_members("proactive", g.group)[0]: g.label_zh
               for g in labels.groups() if (g.section, g.axis) == ("proactive", "row")}
T2_COLUMNS = {code: labels.printed_label("proactive", "col", code) for code in labels.printed_codes("proactive", "col")}
CONTENT_HEADER = labels.printed_label("proactive", "header", "content")
RULE_NOTE = labels.printed_label("requests", "header", "rule_note")
_APPLICANT_COLUMNS = [c.code for c in domain.layout(domain.LATEST_TEMPLATE, "requests")[0].columns]
_LEGAL_PERSON = next(g for g in labels.groups() if (g.section, g.axis) == ("requests", "col"))
APPLICANT_HEADER_TEXT_ORDER = (
    [labels.printed_label("requests", "header", "applicants"),
     labels.printed_label("requests", "col", _APPLICANT_COLUMNS[0]), _LEGAL_PERSON.label_zh,
     labels.printed_label("requests", "col", _APPLICANT_COLUMNS[-1])]
    + [labels.printed_label("requests", "col", c) for c in _APPLICANT_COLUMNS[1:-1]])
_APPEAL_ROWS = [labels.printed_label("appeals", "row", r.code) for r in domain.layout(domain.LATEST_TEMPLATE, "appeals")]
_APPEAL_OUTCOMES = [labels.printed_label("appeals", "col", c.code)
                    for c in domain.layout(domain.LATEST_TEMPLATE, "appeals")[0].columns]
_LITIGATION = next(g.label_zh for g in labels.groups() if (g.section, g.axis) == ("appeals", "row"))
T4_HEADER_TEXT_ORDER = [_APPEAL_ROWS[0], _LITIGATION, *_APPEAL_OUTCOMES, *_APPEAL_ROWS[1:]] + _APPEAL_OUTCOMES * 2


def _t2_label(code: str, template: str) -> str:
    return labels.printed_label("proactive", "row", code, template)


_PLACE_CHARS = "青河阳山安平宁华兴城江东西南北新丰泰永德昌顺通远宜清源"
_BUREAUS = ("自然资源局", "财政局", "教育局", "生态环境局", "交通运输局", "人力资源和社会保障局", "市场监督管理局")
_PINYIN = {"务": "wù", "结": "jié", "项": "xiàng", "动": "dòng", "处": "chǔ", "据": "jù", "关": "guān", "规": "guī"}


@dataclass
class SyntheticReport:
    name: str
    data: bytes
    layout: str
    encoding: str
    traditional: bool
    agency: str
    year: int
    template: str
    truth: list[tuple[str, str, str, str]] = field(default_factory=list)  # section, row, col, value text
    broken_rules: bool = False


def _place(rng: random.Random, suffix: str) -> str:
    return "".join(rng.sample(_PLACE_CHARS, 2)) + suffix


def _agency(rng: random.Random) -> tuple[str, str, str]:
    """(name printed in the title, expected full name, a body line that gives the place prefix)."""
    county = _place(rng, "县")
    kind = rng.random()
    if kind < 0.4:
        town = _place(rng, "镇")
        return town, f"{county}{town}", f"联系地址：{county}{town}人民路1号。"
    if kind < 0.7:
        name = county + rng.choice(_BUREAUS)
        return name, name, f"联系地址：{county}政务服务中心。"
    name = county + "人民政府办公室"
    return name, name, f"联系地址：{county}人民政府大院。"


def _count(rng: random.Random, scale: int) -> int:
    if rng.random() < 0.45:
        return 0
    return int(rng.expovariate(1 / scale)) + rng.choice((0, 1))


def _table3(rng: random.Random, template: str, break_rules: bool) -> dict[str, list[int]]:
    rows = [r.code for r in domain.layout(template, "requests")]
    leaves = [r for r in rows if r not in ("new_received", "carried_over", "total", "carried_forward")]
    values = {r: [0] * 7 for r in rows}
    for c in range(6):
        scale = 40 if c == 0 else 3
        handled = [0] * len(leaves)
        n_results = _count(rng, scale)
        for _ in range(n_results):
            handled[min(int(rng.expovariate(0.35)), len(leaves) - 1) if rng.random() < 0.8
                    else rng.randrange(len(leaves))] += 1
        for leaf, n in zip(leaves, handled):
            values[leaf][c] = n
        values["total"][c] = n_results
        values["carried_forward"][c] = _count(rng, 2) if c == 0 else 0
        values["carried_over"][c] = min(_count(rng, 2) if c == 0 else 0, n_results + values["carried_forward"][c])
        values["new_received"][c] = n_results + values["carried_forward"][c] - values["carried_over"][c]
    for r in rows:
        values[r][6] = sum(values[r][:6])
    if break_rules:
        victim = rng.choice(rows)
        values[victim][rng.randrange(7)] += rng.randint(1, 5)
    return values


def _table2(rng: random.Random, template: str) -> dict[str, list[str]]:
    out = {}
    for row in domain.layout(template, "proactive"):
        cells = []
        for col in row.columns:
            if col.code == "change":
                v = rng.randint(-20, 30)
                cells.append(f"+{v}" if v > 0 and rng.random() < 0.5 else str(v))
            elif col.money:
                amount = round(rng.uniform(0, 5000), 2) if rng.random() < 0.7 else 0
                cells.append(f"{amount:.2f}".rstrip("0").rstrip(".") if amount else "0")
            else:
                cells.append(str(_count(rng, 60)))
        out[row.code] = cells
    return out


def _table4(rng: random.Random) -> list[int]:
    out = []
    for _ in range(3):
        parts = [_count(rng, 1) for _ in range(4)]
        out += parts + [sum(parts)]
    return out


def _blank_some(rng: random.Random, cells: list[str], layout: str, rate: float) -> list[str]:
    """Print some zero cells as blanks: '-' or '/' in text, an empty cell where the layout has cells."""
    out = []
    for i, v in enumerate(cells):
        if v == "0" and rng.random() < rate:
            # An empty first or last field of a pipe row cannot be told from the pipe that opens or closes
            # the row, so pipes print empty cells only inside a row.
            empty_ok = layout == "html" or (layout == "pipes" and 0 < i < len(cells) - 1)
            out.append("" if empty_ok and rng.random() < 0.5 else rng.choice(("-", "/", "—")))
        else:
            out.append(v)
    return out


@dataclass
class _Tables:
    template: str
    t2: dict[str, list[str]]
    t3: dict[str, list[str]]
    t4: list[str]


def _render_lines(rows: list[list[str]], layout: str) -> str:
    out = []
    for cells in rows:
        if layout == "lines":
            out.extend(c if c else "" for c in cells if c != "")
        elif layout == "pipes":
            out.append(" | ".join(cells) + (" | |" if len(cells) < 4 else ""))
        elif layout == "tabs":
            out.append("\t".join(cells))
        elif layout == "markdown":
            out.append("| " + " | ".join(cells) + " |")
        elif layout == "csv":
            out.append(",".join(cells))
    return "\n".join(out)


def _table_rows(t: _Tables) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Tables 2-4 as rows of cell texts, header in the flattened (rowspan) order."""
    t2_rows: list[list[str]] = []
    for row in domain.layout(t.template, "proactive"):
        if row.code in T2_CAPTIONS:
            t2_rows.append([T2_CAPTIONS[row.code]])
            t2_rows.append([CONTENT_HEADER] + [T2_COLUMNS[c.code] for c in row.columns])
        t2_rows.append([_t2_label(row.code, t.template)] + t.t2[row.code])
    t3_rows: list[list[str]] = [[RULE_NOTE, APPLICANT_HEADER_TEXT_ORDER[0]], APPLICANT_HEADER_TEXT_ORDER[1:4],
                                APPLICANT_HEADER_TEXT_ORDER[4:]]
    for row in domain.layout(t.template, "requests"):
        prefix = []
        if row.code == "granted":
            prefix.append(RESULTS_STUB)
        if row.code in T3_GROUPS and (row.code != "other_no_correction" or t.template == "2021"):
            prefix.append(T3_GROUPS[row.code][0])
        t3_rows.append(prefix + [T3_LABELS[row.code]] + t.t3[row.code])
    t4_rows = [T4_HEADER_TEXT_ORDER[:2], T4_HEADER_TEXT_ORDER[2:9], T4_HEADER_TEXT_ORDER[9:], t.t4]
    return t2_rows, t3_rows, t4_rows


def _td(text: str, **spans: int) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in spans.items() if v > 1)
    return f"<td{attrs}><p><span>{html.escape(text)}</span></p></td>"


def _html_tables(t: _Tables) -> list[str]:
    width = 4
    t2 = []
    for row in domain.layout(t.template, "proactive"):
        if row.code in T2_CAPTIONS:
            t2.append(_td(T2_CAPTIONS[row.code], colspan=width))
            heads = [T2_COLUMNS[c.code] for c in row.columns]
            t2.append(_td(CONTENT_HEADER) + "".join(_td(h) for h in heads[:-1]) + _td(heads[-1], colspan=width - len(heads)))
        label = _t2_label(row.code, t.template)
        vals = t.t2[row.code]
        t2.append(_td(label) + "".join(_td(v) for v in vals[:-1]) + _td(vals[-1], colspan=width - len(vals)))
    applicants, natural, legal_person, total = APPLICANT_HEADER_TEXT_ORDER[:4]
    t3 = [_td(RULE_NOTE, colspan=3, rowspan=3) + _td(applicants, colspan=7),
          _td(natural, rowspan=2) + _td(legal_person, colspan=5) + _td(total, rowspan=2),
          "".join(_td(h) for h in APPLICANT_HEADER_TEXT_ORDER[4:])]
    rows = [r.code for r in domain.layout(t.template, "requests")]
    results = rows[2:-2]
    for code in rows:
        cells = ""
        if code in ("new_received", "carried_over", "carried_forward"):
            cells = _td(T3_LABELS[code], colspan=3)
        else:
            if code == "granted":
                cells += _td(RESULTS_STUB, rowspan=len(results) + 1)
            grouped = code.startswith(("denied", "unable", "ignored")) or code in (
                "other_no_correction", "other_unpaid_fee", "other_other")
            if code in T3_GROUPS and (code != "other_no_correction" or t.template == "2021"):
                cells += _td(T3_GROUPS[code][0], rowspan=T3_GROUPS[code][1])
            cells += _td(T3_LABELS[code]) if grouped else _td(T3_LABELS[code], colspan=2)
        t3.append(cells + "".join(_td(v) for v in t.t3[code]))
    t4 = [_td(T4_HEADER_TEXT_ORDER[0], colspan=5) + _td(T4_HEADER_TEXT_ORDER[1], colspan=10),
          "".join(_td(h, rowspan=2) for h in T4_HEADER_TEXT_ORDER[2:7]) + _td(T4_HEADER_TEXT_ORDER[7], colspan=5)
          + _td(T4_HEADER_TEXT_ORDER[8], colspan=5),
          "".join(_td(h) for h in T4_HEADER_TEXT_ORDER[9:]),
          "".join(_td(v) for v in t.t4)]
    return ["<table border=\"1\">" + "".join(f"<tr>{r}</tr>" for r in rows_) + "</table>" for rows_ in (t2, t3, t4)]


@cache
def _s2t():
    import opencc
    return opencc.OpenCC("s2t")


def _to_traditional(text: str, rng: random.Random) -> str:
    converted = _s2t().convert(text)
    out = []
    for ch in converted:
        out.append(ch)
        simplified = {"務": "务", "結": "结", "項": "项", "動": "动", "處": "处", "據": "据", "關": "关", "規": "规"}.get(ch)
        if simplified and rng.random() < 0.6:
            out.append(f"({_PINYIN[simplified]})")
    return "".join(out)


def make_report(seed: int, index: int, layout: str | None = None, encoding: str | None = None,
                traditional: bool | None = None, break_rules: bool | None = None) -> SyntheticReport:
    rng = random.Random(f"{seed}:{index}")
    layout = layout or rng.choice(LAYOUTS)
    traditional = rng.random() < 0.15 if traditional is None else traditional
    encoding = encoding or ("utf-8" if rng.random() < 0.7 else rng.choice(ENCODINGS))
    if encoding == "gb18030" and traditional:
        encoding = "utf-8"
    break_rules = rng.random() < 0.1 if break_rules is None else break_rules
    template = "2021" if rng.random() < 0.7 else "2019"
    t3_values = _table3(rng, template, break_rules)
    blank_rate = 0.08 if layout != "flat" and rng.random() < 0.3 else 0.0
    t3 = {r: _blank_some(rng, [str(v) for v in vals], layout, blank_rate) for r, vals in t3_values.items()}
    t2 = {r: _blank_some(rng, vals, layout, blank_rate) for r, vals in _table2(rng, template).items()}
    t4 = _blank_some(rng, [str(v) for v in _table4(rng)], layout, blank_rate)
    report = render_report(template, t2, t3, t4, layout, rng, traditional, encoding,
                           name=f"synthetic_{seed}_{index:07d}_{layout}")
    report.broken_rules = break_rules
    return report


def render_report(template: str, t2: dict[str, list[str]], t3: dict[str, list[str]], t4: list[str], layout: str,
                  rng: random.Random, traditional: bool = False, encoding: str = "utf-8",
                  name: str = "report") -> SyntheticReport:
    """A report printing the given cell texts (numbers, '+5', '12.5', blanks as '', '-', '/', '—')."""
    year = rng.randint(2021, 2025) if template == "2021" else rng.choice((2019, 2020))
    title_name, agency, address = _agency(rng)
    truth = []
    for section, rows in (("proactive", t2), ("requests", t3)):
        for row in domain.layout(template, section):
            for col, text in zip(row.columns, rows[row.code]):
                truth.append((section, row.code, col.code, _truth_value(text)))
    appeals = [(r.code, c.code) for r in domain.layout(template, "appeals") for c in r.columns]
    truth += [("appeals", r, c, _truth_value(v)) for (r, c), v in zip(appeals, t4)]

    body = _render(_Tables(template, t2, t3, t4), layout, title_name, year, address, rng)
    if traditional:
        body = _to_traditional(body, rng)
    ext = "html" if layout == "html" else "md" if layout == "markdown" else "txt"
    return SyntheticReport(f"{name}.{ext}", body.encode(encoding), layout, encoding, traditional, agency, year,
                           template, truth)


def _truth_value(text: str) -> str:
    if text in ("", "-", "/", "—"):
        return "blank"
    return str(float(text.lstrip("+"))) if "." in text else str(int(text.lstrip("+")))


def _render(t: _Tables, layout: str, title_name: str, year: int, address: str, rng: random.Random) -> str:
    title = f"{title_name}{year}年{'度' if rng.random() < 0.5 else ''}政府信息公开工作年度报告"
    intro = [
        f"本报告依据《中华人民共和国政府信息公开条例》编制。{address}",
        "一、总体情况",
        f"{year}年，{title_name}认真贯彻落实政务公开工作要求，主动公开政府信息{rng.randint(20, 900)}条。",
        "二、主动公开政府信息情况",
    ]
    outro = ["五、存在的主要问题及改进情况", "公开内容的深度和广度还有待提升。", "六、其他需要报告的事项", "无。"]
    if layout == "html":
        t2, t3, t4 = _html_tables(t)
        paragraphs = lambda lines: "".join(f"<p>{html.escape(x)}</p>" for x in lines)  # noqa: E731
        return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html.escape(title) +
                "</title></head><body><div class=\"crumb\">当前位置：首页 &gt; 政务公开</div>"
                f"<h1>{html.escape(title)}</h1>" + paragraphs(intro) + t2 +
                "<p>三、收到和处理政府信息公开申请情况</p>" + t3 +
                "<p>四、政府信息公开行政复议、行政诉讼情况</p>" + t4 + paragraphs(outro) + "</body></html>")
    t2_rows, t3_rows, t4_rows = _table_rows(t)
    if layout == "flat":
        glue = lambda rows: "".join("".join(r[:1]) + " ".join(r[1:]) for r in rows)  # noqa: E731
        return "\n".join([title, "".join(intro) + glue(t2_rows) + "三、收到和处理政府信息公开申请情况" + glue(t3_rows)
                          + "四、政府信息公开行政复议、行政诉讼情况" + "".join(" ".join(r) for r in t4_rows)
                          + "".join(outro)])
    sep = "\n\n" if layout == "lines" and rng.random() < 0.5 else "\n"
    parts = [title, *intro, _render_lines(t2_rows, layout), "三、收到和处理政府信息公开申请情况",
             _render_lines(t3_rows, layout), "四、政府信息公开行政复议、行政诉讼情况",
             _render_lines(t4_rows, layout), *outro]
    text = "\n".join(parts)
    if layout == "markdown":
        text = text.replace("| 规章", "|---|---|---|---|\n| 规章", 1)
    return text.replace("\n", sep) if sep != "\n" else text


def generate(seed: int, n: int, **fixed):
    for index in range(n):
        yield make_report(seed, index, **fixed)
