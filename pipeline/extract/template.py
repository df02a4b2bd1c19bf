"""Which official template the tables follow, decided from the tables themselves, not from the year.

Table 2's column labels vote (``labels.csv``, kind ``cue``); Table 3 follows the latest template when
it prints the sub-items of its derived row (2021's （六） split into three), and fits both otherwise.
Without any cue the template in force is taken. A latest-template report whose Table 3 prints the
single older row is *hybrid*: that row is read as printed, and its sub-items are not in the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.extract.locate import TableRegions
from pipeline.extract.stream import Stream
from pipeline.knowledge import domain


@dataclass
class TemplateChoice:
    template: str | None  # None when no table was found
    proactive_template: str | None  # what Table 2's own cues say (None: a tie)
    requests_has_subitems: bool
    hybrid: bool  # latest template, but Table 3 prints the older single derived row
    notes: list[str] = field(default_factory=list)  # for the whole report
    proactive_notes: list[str] = field(default_factory=list)


def vote(stream: Stream, section: str, start: int, end: int) -> dict[str, int]:
    """Cue matches per template in a span of the stream."""
    return {cue.code: sum(1 for _ in cue.regex.finditer(stream.compact, start, end))
            for cue in domain.labels(section, "cue")}


def older_template_of(section: str) -> str:
    """The template in which the section's derived row is a printed row of its own."""
    derived = domain.derived_row(section)
    return next(t for t in domain.TEMPLATES if any(r.code == derived.row for r in domain.layout(t, section)))


def decide_template(stream: Stream, regions: TableRegions) -> TemplateChoice:
    older, latest = domain.TEMPLATES[0], domain.LATEST_TEMPLATE
    proactive_template = None
    proactive_notes = []
    if regions.proactive_anchor is not None:
        votes = vote(stream, "proactive", regions.proactive_anchor.start(), regions.proactive_end)
        if votes.get(older, 0) != votes.get(latest, 0):
            proactive_template = max(votes, key=votes.get)
        proactive_notes.append(f"Table 2 template cues: {older}={votes.get(older, 0)}, {latest}={votes.get(latest, 0)}")
    has_subitems = False
    requests_template = None
    if regions.first_request is not None:
        votes = vote(stream, "requests", regions.requests_start, regions.requests_end)
        has_subitems = votes.get(latest, 0) > 0
        requests_template = latest if has_subitems else None  # a single derived row fits both templates
    template = proactive_template or requests_template
    found_any = regions.first_request is not None or regions.proactive_anchor is not None
    if template is None and found_any:  # no cue either way: the template in force
        template = latest
    notes = []
    if proactive_template == older and regions.first_request is not None and has_subitems:
        notes.append(domain.message("template_mix"))
    hybrid = template == latest and regions.first_request is not None and not has_subitems
    return TemplateChoice(template, proactive_template, has_subitems, hybrid, notes, proactive_notes)
