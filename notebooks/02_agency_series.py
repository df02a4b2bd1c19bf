# %% [markdown]
# # One agency over the years
#
# The agency with the most report years in the dataset (or `$OGI_AGENCY`), its Table 3 totals per year,
# and the cross-year check X1 (templates.md §5.4): the requests an agency carries forward at the end of
# year Y (四、结转下年度继续办理) should be the ones it carries over at the start of Y + 1 (二、上年结转).
# Only the preferred copy of each year's report is used (see `report_copies`).

# %%
import os

import polars as pl

import charts
from pipeline.warehouse import query

con = query.connect(charts.dataset_path())
years_per_agency = con.sql("""
    SELECT agency, count(*) AS years, min(year) AS first_year, max(year) AS last_year,
           CAST(sum(received) AS BIGINT) AS received
    FROM report_summary WHERE agency IS NOT NULL AND year IS NOT NULL
    GROUP BY agency ORDER BY years DESC, received DESC NULLS LAST, agency""").pl()
agency = os.environ.get("OGI_AGENCY") or (years_per_agency["agency"][0] if years_per_agency.height else None)
print(f"agency: {agency} ({charts.romanize(agency)})")
years_per_agency

# %%
series = con.sql("""
    SELECT year, template, received, carried_over, granted, partially_granted, denied, unable, ignored,
           other_processing, total, carried_forward, reviews, lawsuits, n_ambiguous, n_violations, source_file,
           received_fails_parts, carried_over_fails_parts, total_fails_parts, carried_forward_fails_parts
    FROM report_summary WHERE agency = ? ORDER BY year""", params=[agency]).pl()
series

# %% [markdown]
# ## Requests per year

# %%
fig, ax = charts.figure()
name = charts.romanize(agency)
bars = {"carried_over": ("Carried over from previous year", "#adb5bd"),
        "received": ("New requests received", "#1971c2"),
        "total": ("Requests handled (total)", "#2b8a3e"),
        "carried_forward": ("Carried forward to next year", "#f59f00")}
if series.is_empty():
    charts.no_data(ax, "no data: no report with a known agency and year")
else:
    years = series["year"].to_list()
    width = 0.8 / len(bars)
    marked = False
    for k, (column, (label, colour)) in enumerate(bars.items()):
        values = [float("nan") if v is None else v for v in series[column].to_list()]
        drawn = ax.bar([i + (k - 1.5) * width for i in range(len(years))], values, width=width, color=colour,
                       label=label)
        ax.bar_label(drawn, labels=["n/a" if v != v else f"{v:g}" for v in values], fontsize=7)
        marked = charts.flag_bars(drawn, series[f"{column}_fails_parts"].to_list()) or marked
    charts.year_axis(ax, years)
    charts.count_axis(ax, "Requests")
    ax.margins(y=0.15)
    charts.legend(ax, marked, fontsize=8)
ax.set_title(f"Requests per year: {name}" + (" (one year only)" if series.height == 1 else ""))
charts.save(fig, "agency_requests_per_year")

# %% [markdown]
# ## Cross-year consistency
#
# One pair of bars per pair of consecutive years, column 总计: carried forward in Y and carried over in
# Y + 1. The label says whether they agree; `cross_year` has the check for every applicant column.

# %%
pairs = con.sql("SELECT * FROM cross_year WHERE agency = ? ORDER BY year", params=[agency]).pl()
totals = pairs.filter(pl.col("applicant_type") == "total")
fig, ax = charts.figure()
if totals.is_empty():
    charts.no_data(ax, "no data: the check needs reports of this agency for two consecutive years")
else:
    x = range(totals.height)
    forward = [float("nan") if v is None else v for v in totals["carried_forward"].to_list()]
    over = [float("nan") if v is None else v for v in totals["next_carried_over"].to_list()]
    ax.bar([i - 0.2 for i in x], forward, width=0.4, color="#f59f00", label="Carried forward at end of year Y")
    ax.bar([i + 0.2 for i in x], over, width=0.4, color="#868e96", label="Carried over at start of year Y+1")
    marks = {"consistent": "consistent", "inconsistent": "MISMATCH", "not_assessable": "not readable"}
    top = max([v for v in forward + over if v == v] + [1])
    for i, outcome in enumerate(totals["outcome"].to_list()):
        ax.text(i, top * 1.08 + 0.1, marks[outcome], ha="center", fontsize=8,
                color="#c92a2a" if outcome == "inconsistent" else "#495057")
    ax.set_xticks(list(x), [f"{y}→{n}" for y, n in zip(totals["year"], totals["next_year"])])
    ax.set_xlabel("Year pair (Y → Y+1)")
    charts.count_axis(ax, "Requests (column total)")
    ax.set_ylim(0, top * 1.3 + 0.5)
    ax.legend(fontsize=8, loc="upper left")
ax.set_title(f"Cross-year check: carried forward vs carried over next year\n{name}")
charts.save(fig, "agency_cross_year_check")
summary_of_check = (pairs.group_by("outcome").len().sort("outcome") if pairs.height else pairs)
print(summary_of_check)
pairs
