# %% [markdown]
# # Data quality
#
# How much of the data the builder could read and how often the reports' own sums (勾稽关系, rules R1–R4)
# fail, by rule and by report year; and which files have ambiguous cells (cells the text does not
# determine, left null rather than guessed). Unlike the other notebooks this one looks at **every input
# file**, copies included: quality is a property of a file, not of a report.

# %%
import polars as pl

import charts
from pipeline.knowledge import domain
from pipeline.warehouse import query

con = query.connect(charts.dataset_path())
reports = con.sql("SELECT source_file, agency, year, status, n_cells, n_ambiguous, n_violations FROM reports "
                  "ORDER BY year, source_file").pl()
print(reports.group_by("status").len())
reports

# %% [markdown]
# ## Sum rules by rule
#
# `failed`: every operand was read and the sum does not hold. `not_assessable`: some operand was not read
# (ambiguous or blank), so the rule could not be checked: it is never counted as passed.

# %%
counted = con.sql("""
    SELECT rule, count(*) FILTER (WHERE outcome = 'failed') AS failed,
           count(*) FILTER (WHERE outcome = 'not_assessable') AS not_assessable
    FROM violations GROUP BY rule""").pl()
# every rule of rules.csv, also those that never failed (they are the good news)
known_rules = pl.DataFrame({"rule": [r.rule for r in domain.sum_rules()]})
by_rule = (pl.concat([known_rules, counted.select("rule")]).unique(maintain_order=True)
           .join(counted, on="rule", how="left").fill_null(0).sort("rule"))
fig, ax = charts.figure()
if reports.filter(pl.col("n_cells") > 0).is_empty():
    charts.no_data(ax, "no data: no file with table cells, so no rule could be checked")
elif by_rule.select(pl.col("failed").sum() + pl.col("not_assessable").sum()).item() == 0:
    charts.no_data(ax, "no data: every sum rule was checked and held")
else:
    charts.paired_bars(ax, by_rule["failed"], by_rule["not_assessable"], "failed",
                       "not assessable (operand not read)", "#e03131", "#adb5bd")
    ax.set_xticks(list(range(by_rule.height)), by_rule["rule"].to_list(), rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("Rule")
    charts.count_axis(ax, "Rule checks (one per column, row or block)")
ax.set_title("Sum-rule checks that failed or could not be made, by rule")
charts.save(fig, "quality_rules_by_rule")
by_rule

# %% [markdown]
# ## Failed rules by report year

# %%
by_year = con.sql("""
    SELECT r.year, v.rule, count(*) AS failed
    FROM violations v JOIN reports r USING (report_id)
    WHERE v.outcome = 'failed' AND r.year IS NOT NULL
    GROUP BY ALL ORDER BY r.year, v.rule""").pl()
all_years = sorted(y for y in reports["year"].unique().to_list() if y is not None)
fig, ax = charts.figure()
if not all_years:
    charts.no_data(ax, "no data: no report with a known year")
else:
    bottom = [0] * len(all_years)
    palette = ["#c92a2a", "#e8590c", "#f08c00", "#1c7ed6", "#7048e8"]
    for colour, rule in zip(palette * 3, sorted(by_year["rule"].unique().to_list())):
        counts = [by_year.filter((pl.col("year") == y) & (pl.col("rule") == rule))["failed"].sum() for y in all_years]
        ax.bar(range(len(all_years)), counts, bottom=bottom, color=colour, label=rule)
        bottom = [b + c for b, c in zip(bottom, counts)]
    files = reports.filter(pl.col("year").is_not_null()).group_by("year").len()
    for i, y in enumerate(all_years):
        n = files.filter(pl.col("year") == y)["len"].sum()
        ax.text(i, bottom[i], f"{bottom[i]:g}\n({n} file{'s' if n > 1 else ''})", ha="center", va="bottom",
                fontsize=8)
    charts.year_axis(ax, all_years)
    charts.count_axis(ax, "Failed rule checks")
    ax.set_ylim(0, max(bottom + [1]) * 1.3)
    if by_year.height:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no failed rule in any year", ha="center", transform=ax.transAxes, color="#868e96")
ax.set_title("Failed sum-rule checks per report year (all files)")
charts.save(fig, "quality_failed_rules_by_year")
by_year

# %% [markdown]
# ## Ambiguous cells per file, by table

# %%
ambiguous = con.sql("""
    SELECT r.source_file, r.year, f.section, count(*) FILTER (WHERE f.status = 'ambiguous') AS ambiguous,
           count(*) AS cells
    FROM facts f JOIN reports r ON r.report_id = f.report_id AND r.source_file = f.source_file
    WHERE f.status <> 'derived'
    GROUP BY ALL ORDER BY r.year, r.source_file, f.section""").pl()
files = ambiguous.select("source_file", "year").unique(maintain_order=True)
fig, ax = charts.figure(9, max(3.0, 0.45 * files.height + 1.5))
if files.is_empty():
    charts.no_data(ax, "no data: no file with table cells")
else:
    left = [0] * files.height
    colours = {"proactive": "#74c0fc", "requests": "#1971c2", "appeals": "#5f3dc4"}
    names = {"proactive": "Table 2 (proactive)", "requests": "Table 3 (requests)", "appeals": "Table 4 (appeals)"}
    for section, colour in colours.items():
        counts = [ambiguous.filter((pl.col("source_file") == f) & (pl.col("section") == section))["ambiguous"].sum()
                  for f in files["source_file"]]
        ax.barh(range(files.height), counts, left=left, color=colour, label=names[section])
        left = [a + b for a, b in zip(left, counts)]
    cells = [ambiguous.filter(pl.col("source_file") == f)["cells"].sum() for f in files["source_file"]]
    for i, (n, total) in enumerate(zip(left, cells)):
        ax.text(n, i, f" {n} / {total}", va="center", fontsize=8)
    ax.set_yticks(range(files.height),
                  [f"{y if y is not None else '?'}  {f[:38]}" for f, y in zip(files["source_file"], files["year"])],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Ambiguous cells (label: ambiguous / all cells of the file)")
    ax.set_xlim(0, max(left + [1]) * 1.25)
    ax.legend(fontsize=8, loc="lower right")
ax.set_title("Ambiguous cells per input file, by table")
charts.save(fig, "quality_ambiguous_cells")
ambiguous.group_by("section").agg(pl.col("ambiguous").sum(), pl.col("cells").sum())
