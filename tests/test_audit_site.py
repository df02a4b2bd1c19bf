"""The audit site in a real browser: headless Chromium loads the index and the report pages from
file://, and the tests read the DOM it rendered (scripts run) and take screenshots."""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import polars as pl
import pytest
from conftest import build_dataset, pipe_report_2021

from pipeline.audit.site import build_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(tmp_path, *args) -> str:
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                            capture_output=True, text=True, timeout=120)
    return result.stdout


class Elements(HTMLParser):
    """Elements with their attributes and text, from the DOM Chromium dumped."""

    def __init__(self):
        super().__init__()
        self.found, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.found.append(element)
        if tag not in ("br", "meta", "input", "img", "link"):
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data


def dom(tmp_path, page) -> list[dict]:
    parser = Elements()
    parser.feed(chromium(tmp_path, "--dump-dom", f"file://{page}"))
    return parser.found


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_dataset):
    out = tmp_path_factory.mktemp("audit") / "site"
    assert build_site(sample_dataset, out) == 5
    return out


@needs_chromium
def test_the_index_lists_every_report_in_the_browser(site, sample_dataset, tmp_path):
    elements = dom(tmp_path, site / "index.html")
    rows = [e for e in elements if e["tag"] == "tr" and "data-agency" in e["attrs"]]
    reports = pl.read_parquet(sample_dataset / "reports.parquet")
    assert sorted(r["attrs"]["data-agency"] for r in rows) == sorted(reports["agency"].to_list())
    links = {e["attrs"]["href"] for e in elements if e["tag"] == "a"}
    assert {f"reports/{rid}.html" for rid in reports["report_id"]} <= links
    # the script ran: the filters are shown and the headers sort
    filters = next(e for e in elements if e["attrs"].get("id") == "filters")
    assert "display: none" not in filters["attrs"].get("style", "")
    assert all("sortable" in e["attrs"].get("class", "") for e in elements if e["tag"] == "th" and
               e["attrs"].get("class") is not None and e["text"] in ("agency", "year"))


@needs_chromium
def test_a_failing_r1_is_shown_on_its_cells_with_expected_and_actual(site, sample_dataset, tmp_path):
    reports = pl.read_parquet(sample_dataset / "reports.parquet")
    rid = reports.filter(pl.col("agency") == "衡阳市人民政府办公室")["report_id"][0]
    elements = dom(tmp_path, site / "reports" / f"{rid}.html")
    items = [e for e in elements if e["tag"] == "li" and "R1_balance" in e["text"]]
    total = next(e for e in items if "in column total" in e["text"])
    assert re.search(r"expected 54, actual 49", total["text"].replace("\n", " "))
    number = total["attrs"]["id"][1:]
    marked = [e for e in elements if e["tag"] == "td" and number in e["attrs"].get("data-findings", "").split()]
    # R1 on column total: 一 + 二 = 三(七) + 四, four cells of that column
    assert len(marked) == 4 and all("finding" in e["attrs"]["class"] for e in marked)
    assert all(e["attrs"]["title"].startswith(("New requests", "Carried", "Total")) for e in marked)
    status = {e["attrs"]["data-status"] for e in elements if e["tag"] == "td" and "data-status" in e["attrs"]}
    assert status == {"reported"}


@needs_chromium
def test_pages_are_screenshotted_with_their_tables(site, sample_dataset, tmp_path):
    reports = pl.read_parquet(sample_dataset / "reports.parquet")
    rid = reports.filter(pl.col("agency") == "高安市独城镇")["report_id"][0]
    for page, name in ((site / "index.html", "index.png"), (site / "reports" / f"{rid}.html", "report.png")):
        chromium(tmp_path, "--window-size=1300,1600", f"--screenshot={tmp_path / name}", f"file://{page}")
        assert (tmp_path / name).stat().st_size > 30_000  # a rendered page, not a blank one


def test_pages_are_self_contained_and_readable_without_javascript(site):
    page = next((site / "reports").glob("*.html")).read_text(encoding="utf-8")
    index = (site / "index.html").read_text(encoding="utf-8")
    for html in (page, index):
        assert not re.search(r"""(?:src|href)=["']https?://""", html)  # no CDN, no web font
        assert "@import" not in html and "<link" not in html
    assert "<table" in page and "<script" not in page  # the report page needs no script
    assert index.count("<tr data-agency=") == 5  # the table is complete before any script runs


def test_a_page_links_the_years_before_and_after_and_its_source(tmp_path):
    (tmp_path / "in").mkdir()
    for year in (2021, 2022, 2023):
        (tmp_path / "in" / f"r{year}.txt").write_text(pipe_report_2021(year=year), encoding="utf-8")
    dataset = build_dataset(tmp_path / "in", tmp_path / "ds")
    assert build_site(dataset, tmp_path / "site") == 3
    reports = dict(pl.read_parquet(dataset / "reports.parquet").select("year", "report_id").rows())
    middle = (tmp_path / "site" / "reports" / f"{reports[2022]}.html").read_text(encoding="utf-8")
    assert f'href="{reports[2021]}.html"' in middle and f'href="{reports[2023]}.html"' in middle
    assert 'href="../sources/r2022.txt"' in middle and (tmp_path / "site" / "sources" / "r2022.txt").exists()
    assert "Against the year before" in middle and ">2021</th><th>2022</th>" in middle


def test_pages_written_a_few_reports_at_a_time_are_the_pages_written_at_once(tmp_path, full_sample_dataset,
                                                                             monkeypatch):
    """The cells and findings stream from DuckDB a range of reports at a time (memory stays flat);
    cutting the stream after every report and every 7 rows changes no page."""
    from pipeline.audit import site as site_module

    whole = tmp_path / "whole"
    pages = build_site(full_sample_dataset, whole)
    monkeypatch.setattr(site_module, "PAGES_AT_ONCE", 1)
    monkeypatch.setattr(site_module, "STREAM_ROWS", 7)
    assert build_site(full_sample_dataset, tmp_path / "parts") == pages == 14
    written = sorted(p.name for p in (whole / "reports").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "parts" / "reports").iterdir())
    for name in written:
        assert (whole / "reports" / name).read_bytes() == (tmp_path / "parts" / "reports" / name).read_bytes()
    # and no page lost its cells to a cut of the stream
    assert sum('class="n reported' in (whole / "reports" / n).read_text(encoding="utf-8") for n in written) == 14
