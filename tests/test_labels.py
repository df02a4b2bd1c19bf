"""English labels, groups and summary definitions (pipeline/knowledge/data): complete, consistent, checked on load."""

import pytest

from pipeline.knowledge import domain, labels


def test_every_code_of_codes_csv_has_an_english_label_and_a_printed_order():
    codes = labels.code_labels()
    for section in domain.SECTIONS:
        rows, cols = domain.valid_codes()[section]
        assert {c.code for c in codes if (c.section, c.axis) == (section, "row")} == rows
        assert {c.code for c in codes if (c.section, c.axis) == (section, "col")} == cols
    assert all(c.label_en and c.label_zh for c in codes)
    requests_rows = [c.code for c in codes if (c.section, c.axis) == ("requests", "row")]
    assert requests_rows[:3] == ["new_received", "carried_over", "granted"]
    assert requests_rows[-2:] == ["total", "carried_forward"]


def test_groups_know_their_members_and_their_place():
    assert labels.group_members("requests", "unable") == ("unable_not_held", "unable_needs_creation", "unable_unclear")
    assert len(labels.group_members("requests", "denied")) == 8
    by_name = {(g.section, g.group): g for g in labels.groups()}
    assert by_name[("requests", "denied")].parent == "results"
    assert by_name[("requests", "denied")].order == 5  # its first member is the 5th row
    assert by_name[("requests", "results")].order == 3  # granted, the first row under 三


def test_summary_columns_expand_groups_and_name_real_codes():
    columns = {c.column: c for c in labels.summary_columns()}
    assert list(columns)[:2] == ["received", "carried_over"]
    assert columns["denied"].rows == labels.group_members("requests", "denied")
    assert columns["lawsuits"].rows == ("litigation_direct", "litigation_after_review")
    assert columns["other_processing"].rows == ("other_processing",)  # not its 2021 parts: no double count
    assert {c.col for c in columns.values()} == {"total"}


@pytest.mark.parametrize("broken, message", [
    ({"labels_en.csv": lambda rows: [r for r in rows if r["code"] != "granted"]}, "no English label"),
    ({"labels_en.csv": lambda rows: rows + [{**rows[0], "code": "not_a_code"}]}, "codes.csv does not have"),
    ({"labels_en.csv": lambda rows: [{**r, "group": "nowhere"} if r["code"] == "granted" else r for r in rows]},
     "not in label_groups.csv"),
    ({"summary.csv": lambda rows: [{**rows[0], "terms": "granted+nonsense"}]}, "neither a requests row"),
])
def test_inconsistent_label_files_are_refused(monkeypatch, broken, message):
    real = domain.read_table

    def edited(name):
        return broken[name](real(name)) if name in broken else real(name)

    for cached in (labels.code_labels, labels.groups, labels.summary_columns):
        cached.cache_clear()
    monkeypatch.setattr(domain, "read_table", edited)
    try:
        with pytest.raises(ValueError, match=message):
            labels.summary_columns()
    finally:
        monkeypatch.undo()
        for cached in (labels.code_labels, labels.groups, labels.summary_columns):
            cached.cache_clear()
