"""Every cell's HTML, built for all reports at once (frame operations, not a Python loop per cell):
its table cell (status colour, value, hover text) and its row of the provenance table."""

from __future__ import annotations

import polars as pl

from pipeline.knowledge import domain, labels

SHOWN_FOR = {"blank": "–", "ambiguous": "?", "not_printed": "·"}


def escaped(expr: pl.Expr) -> pl.Expr:
    return (expr.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True).str.replace_all('"', "&quot;", literal=True)
            .str.replace_all("'", "&#x27;", literal=True))


def number_text(value: pl.Expr) -> pl.Expr:
    """2 for 2.0, 297.17 for 297.17 (as the pages print numbers)."""
    whole = value == value.floor()
    return (pl.when(value.is_null()).then(pl.lit(""))
            .when(whole).then(value.cast(pl.Int64).cast(pl.String))
            .otherwise(value.round(6).cast(pl.String)))


def _english() -> pl.DataFrame:
    return pl.DataFrame([(c.section, c.axis, c.code, c.label_en) for c in labels.code_labels()],
                        schema=["section", "axis", "code", "label_en"], orient="row").unique(["section", "axis", "code"])


def with_html(cells: pl.DataFrame) -> pl.DataFrame:
    """``cells`` (one row per report cell) with ``td`` and ``prov`` HTML columns."""
    english = _english()
    rows = english.filter(pl.col("axis") == "row").select("section", pl.col("code").alias("row"),
                                                          pl.col("label_en").alias("row_en"))
    cols = english.filter(pl.col("axis") == "col").select("section", pl.col("code").alias("col"),
                                                          pl.col("label_en").alias("col_en"))
    frame = cells.join(rows, on=["section", "row"], how="left").join(cols, on=["section", "col"], how="left")
    anchor = pl.concat_str([pl.lit("c-"), pl.col("section"), pl.lit("-"), pl.col("row"), pl.lit("-"), pl.col("col")])
    usable = pl.col("status").is_in(domain.USABLE_STATUSES)
    shown = pl.when(usable).then(number_text(pl.col("value"))).otherwise(
        pl.col("status").replace_strict(SHOWN_FOR, default=""))
    place = pl.when(pl.col("raw").str.contains(" @p", literal=True)).then(pl.lit("page")).otherwise(pl.lit("line"))
    hover = pl.concat_str([
        pl.col("row_en").fill_null(pl.col("row")), pl.lit(" / "), pl.col("col_en").fill_null(pl.col("col")),
        pl.lit(": "), pl.col("status"), pl.lit("; raw: "), pl.col("raw").fill_null("-"), pl.lit("; "),
        pl.col("source_file"), pl.lit(", "), place.fill_null("line"), pl.lit(" "),
        pl.col("line").cast(pl.String).fill_null("-"),
        pl.when(pl.col("evidence").is_not_null()).then(pl.lit("; ") + pl.col("evidence")).otherwise(pl.lit(""))])
    td = pl.concat_str([pl.lit('<td class="n '), pl.col("status"), pl.lit('" title="'), escaped(hover),
                        pl.lit('" data-status="'), pl.col("status"), pl.lit('" data-findings=""><a href="#'), anchor,
                        pl.lit('">'), shown, pl.lit("</a></td>")])
    prov = pl.concat_str([
        pl.lit('<tr id="'), anchor, pl.lit('"><td>'), pl.col("section"), pl.lit("</td><td>"), pl.col("row"),
        pl.lit("</td><td>"), pl.col("col"), pl.lit('</td><td class="n">'), number_text(pl.col("value")),
        pl.lit("</td><td>"), pl.col("status"), pl.lit("</td><td>"), escaped(pl.col("source_file")),
        pl.lit('</td><td class="n">'), pl.col("line").cast(pl.String).fill_null(""), pl.lit("</td><td>"),
        escaped(pl.col("raw").fill_null("")), pl.lit('</td><td class="small">'),
        escaped(pl.col("evidence").fill_null("")), pl.lit("</td></tr>")])
    return frame.with_columns(td.alias("td"), prov.alias("prov"))


def marked(td: str, numbers: list[str], conflict: bool) -> str:
    """A cell's HTML with the findings that concern it (outline, numbers) or a conflict of copies."""
    start = td.index('"', td.index("class=")) + 1
    end = td.index('"', start)
    extra = (" conflict" if conflict else "") + (" finding" if numbers else "")
    td = td[:end] + extra + td[end:]
    if numbers:
        badges = "".join(f'<span class="badge">{n}</span>' for n in numbers)
        td = td.replace('data-findings=""', f'data-findings="{" ".join(numbers)}"', 1).replace(
            "</a></td>", f"{badges}</a></td>")
    return td
