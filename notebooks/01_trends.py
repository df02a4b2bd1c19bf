# %% [markdown]
# # Trends across years
#
# Requests received, how they were handled (granted / partially granted / denied ...), the mix of denial
# reasons, and administrative reviews and lawsuits, per report year.
#
# Source: the `report_summary` and `requests` views of `ogi.duckdb`. Only the **preferred copy** of each
# agency's report for a year is counted (`preferred`: a report saved twice, e.g. as text and as HTML, counts
# once; the copy with the fewest ambiguous cells wins, see `report_copies`). A total is null when any of its
# cells could not be read, and such reports are left out of that chart, so each chart says how many
# reports it covers. The dataset is `$OGI_DATASET`, by default the one `make dataset` built.

# %%
import polars as pl

import charts
from pipeline.warehouse import query

con = query.connect(charts.dataset_path())
summary = con.sql("SELECT * FROM report_summary ORDER BY year").pl()
print(f"{summary.height} reports (one per agency and year) from {charts.dataset_path()}")
summary.select("agency", "year", "template", "received", "granted", "partially_granted", "denied", "total",
               "reviews", "lawsuits", "n_ambiguous")

# %% [markdown]
# ## Requests received per year

# %%
received = (summary.filter(pl.col("year").is_not_null() & pl.col("received").is_not_null())
            .group_by("year").agg(pl.col("received").sum(), pl.len().alias("reports")).sort("year"))
unknown = summary.filter(pl.col("received").is_null()).height
fig, ax = charts.figure()
if received.is_empty():
    charts.no_data(ax, "no data: no report with a readable number of requests received")
else:
    years = received["year"].to_list()
    bars = ax.bar(range(len(years)), received["received"], color="#1971c2")
    ax.bar_label(bars, labels=[f"{v:g}\n({n} report{'s' if n > 1 else ''})"
                               for v, n in zip(received["received"], received["reports"])], fontsize=8)
    charts.year_axis(ax, years)
    charts.count_axis(ax, "Requests received")
    ax.margins(y=0.2)
ax.set_title("New requests received per year (sum over reports)"
             + (f"\n{unknown} report(s) left out: number not readable" if unknown else ""))
charts.save(fig, "trends_requests_received")

# %% [markdown]
# ## How requests were handled
#
# Share of each result group in the results the reports give (the sum of the six groups, column 总计;
# where a report's own 三(七) 总计 differs, rule R3 fails and the quality notebook shows it).
# `other_processing` is comparable across templates: the 2021 tables split it into three rows, whose sum
# is a derived row.

# %%
groups = list(charts.OUTCOME_COLOURS)
names = {"granted": "Granted", "partially_granted": "Partially granted", "denied": "Denied",
         "unable": "Unable to provide", "ignored": "Not processed", "other_processing": "Other handling"}
known = summary.filter(pl.all_horizontal(pl.col(g).is_not_null() for g in groups)
                       & pl.col("year").is_not_null())
handled = (known.group_by("year").agg(*(pl.col(g).sum() for g in groups), pl.len().alias("reports"))
           .with_columns(pl.sum_horizontal(groups).alias("handled")).filter(pl.col("handled") > 0).sort("year"))
fig, ax = charts.figure()
if handled.is_empty():
    charts.no_data(ax, "no data: no report with every result group readable and at least one request handled")
else:
    years = handled["year"].to_list()
    bottom = [0.0] * len(years)
    for g in groups:
        share = (handled[g] / handled["handled"] * 100).to_list()
        ax.bar(range(len(years)), share, bottom=bottom, color=charts.OUTCOME_COLOURS[g], label=names[g])
        bottom = [b + s for b, s in zip(bottom, share)]
    for i, (n, total) in enumerate(zip(handled["reports"], handled["handled"])):
        ax.text(i, 101, f"{total:g} results\n{n} report{'s' if n > 1 else ''}", ha="center", va="bottom", fontsize=8)
    charts.year_axis(ax, years)
    ax.set_ylim(0, 115)
    ax.set_ylabel("Share of results (%)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
ax.set_title("How requests were handled: share of each result, per year")
charts.save(fig, "trends_outcome_shares")
handled

# %% [markdown]
# ## Why requests were denied
#
# The eight reasons of 三(三) 不予公开 (column 总计), summed over the preferred reports of each year.

# %%
reasons = con.sql("""
    WITH denial AS (
        SELECT report_id, source_file, year, row, row_label_en, row_order, value, status FROM requests
        WHERE preferred AND row_group = 'denied' AND applicant_type = 'total' AND year IS NOT NULL),
    complete AS (  -- reports whose eight denial rows were all read: a partial sum would understate
        SELECT report_id, source_file FROM denial GROUP BY ALL
        HAVING count(*) FILTER (WHERE status IN ('reported', 'derived')) =
               (SELECT count(*) FROM labels WHERE section = 'requests' AND kind = 'code' AND parent_group = 'denied'))
    SELECT year, row, row_label_en, row_order, CAST(sum(value) AS BIGINT) AS requests, count(*) AS reports
    FROM denial JOIN complete USING (report_id, source_file)
    GROUP BY ALL ORDER BY year, row_order""").pl()
by_year = (reasons.pivot(on="row_label_en", index="year", values="requests").sort("year")
           if not reasons.is_empty() else reasons)
reports_per_year = reasons.group_by("year").agg(pl.col("reports").max()).sort("year")
# one fixed colour per reason, in printed order, so that a reason keeps its colour whatever the dataset
all_reasons = con.sql("""SELECT label_en FROM labels WHERE section = 'requests' AND kind = 'code'
                         AND parent_group = 'denied' ORDER BY "order" """).pl()["label_en"].to_list()
fig, ax = charts.figure(9, 4.8)
if reasons.is_empty() or reasons["requests"].sum() == 0:
    charts.no_data(ax, "no data: no request was denied in the reports with readable denial rows")
else:
    years = by_year["year"].to_list()
    bottom = [0.0] * len(years)
    palette = ["#c92a2a", "#e8590c", "#f08c00", "#5c940d", "#1098ad", "#1c7ed6", "#7048e8", "#ae3ec9"]
    for colour, label in zip(palette, all_reasons):
        counts = by_year[label].fill_null(0).to_list() if label in by_year.columns else []
        if sum(counts) == 0:  # also when the reason is absent
            continue
        ax.bar(range(len(years)), counts, bottom=bottom, color=colour, label=label.removeprefix("Denied: "))
        bottom = [b + c for b, c in zip(bottom, counts)]
    for i, (total, n) in enumerate(zip(bottom, reports_per_year["reports"])):
        ax.text(i, total, f"{total:g}\n({n} report{'s' if n > 1 else ''})", ha="center", va="bottom", fontsize=8)
    charts.year_axis(ax, years)
    charts.count_axis(ax, "Requests denied")
    ax.set_ylim(0, max(bottom) * 1.2 + 1)  # room for the labels above the bars
    ax.legend(title="Reason", loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
ax.set_title("Denied requests by reason (reasons never used are not shown)")
charts.save(fig, "trends_denial_reasons")
reasons

# %% [markdown]
# ## Administrative reviews and lawsuits
#
# Table 4 totals: reviews (行政复议 总计) and lawsuits (未经复议直接起诉 + 复议后起诉, 总计).

# %%
appeals = (summary.filter(pl.col("year").is_not_null())
           .group_by("year").agg(pl.col("reviews").sum(), pl.col("lawsuits").sum(),
                                 pl.col("reviews").is_not_null().sum().alias("reports_reviews"),
                                 pl.col("lawsuits").is_not_null().sum().alias("reports_lawsuits"),
                                 pl.col("reviews_fails_parts").any().alias("reviews_flagged"),
                                 pl.col("lawsuits_fails_parts").any().alias("lawsuits_flagged"))
           .filter((pl.col("reports_reviews") > 0) | (pl.col("reports_lawsuits") > 0)).sort("year"))
fig, ax = charts.figure()
if appeals.is_empty():
    charts.no_data(ax, "no data: no report with readable Table 4 totals")
else:
    # a year whose sum holds a printed total that contradicts its own outcomes is marked
    charts.paired_bars(ax, appeals["reviews"], appeals["lawsuits"], "Administrative reviews", "Lawsuits",
                       "#5f3dc4", "#e64980", appeals["reviews_flagged"], appeals["lawsuits_flagged"])
    charts.year_axis(ax, appeals["year"].to_list())
    charts.count_axis(ax, "Cases")
ax.set_title("Administrative reviews and lawsuits about disclosure, per year")
charts.save(fig, "trends_reviews_lawsuits")
appeals
