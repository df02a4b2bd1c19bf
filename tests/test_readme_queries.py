"""The five queries of the README's "Asking questions" run on the sample dataset (make dataset) and give the rows shown."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from pipeline.warehouse import query

EXAMPLE = re.compile(r'```sh\n\.venv/bin/ogi sql "(?P<sql>[^"]+)"\n```\n```text\n(?P<output>.*?)```', re.S)


def readme_examples() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Asking questions"):]
    section = section[:section.index("\n## ", 3)]
    return [(m["sql"], m["output"]) for m in EXAMPLE.finditer(section)]


def printed_table(output: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a table as `ogi sql` prints it (heavy lines for the header, light for rows)."""
    lines = output.splitlines()
    header = [c.strip() for c in next(line for line in lines if line.startswith("┃")).strip("┃").split("┃")]
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines if line.startswith("│")]
    return header, rows


def test_the_readme_shows_five_queries():
    assert len(readme_examples()) == 5


@pytest.mark.parametrize("number", range(5))
def test_readme_query_returns_the_rows_shown(full_sample_dataset, number):
    sql, output = readme_examples()[number]
    header, shown = printed_table(output)
    result = query.run(full_sample_dataset, sql)
    assert result.columns == header
    assert [[query.display_value(v) for v in row] for row in result.rows] == shown
    assert len(shown) == {0: 14, 1: 7, 2: 5, 3: 13, 4: 4}[number]


def test_key_values_of_the_readme_queries(full_sample_dataset):
    """A few numbers the README's prose relies on, checked on their own."""
    by_agency = {r[1]: r for r in query.run(full_sample_dataset, readme_examples()[0][0]).rows}
    assert by_agency["衡阳市人民政府办公室"][2:8] == (49, 36, 2, 1, 6, 49)
    assert by_agency["双柏县政务服务管理局"][2] is None
    r1 = {r[2]: (r[3], r[4]) for r in query.run(full_sample_dataset, readme_examples()[2][0]).rows}
    assert r1["total"] == (54, 49)  # 一 + 二 = 49 + 5, 三(七) + 四 = 49 + 0 (spec §5.6)
    by_template = {(r[0], r[1]): (r[2], r[4]) for r in query.run(full_sample_dataset, readme_examples()[3][0]).rows}
    assert by_template[("高安市独城镇", 2020)] == ("2019", "ambiguous")
    assert by_template[("恩平市君堂镇人民政府", 2024)] == ("2021", "derived")
    assert by_template[("淮安市洪泽区人民政府", 2024)] == ("2021", "reported")  # the single 2019-style row, printed
