"""Where an agency is: the administrative division its name starts with (offline).

Data: ``data/divisions.csv`` (code, name, level, parent_code), the Ministry of Civil Affairs list of
行政区划代码 as of 2025-12-31 (province, prefecture and county with their six-digit GB/T 2260 codes,
townships with nine-digit codes; source and license in ``data/divisions.SOURCE.md``), and
``data/division_aliases.csv`` (bodies that are not divisions, short province names, how central bodies
are named). Nothing is fetched at run time.

Method: from the start of the name, the longest chain of official full names (province → prefecture
→ county → township, levels may be skipped) in which each name lies inside the one before it. A
chain that starts with a name several places share (朝阳区, 城关镇) is ambiguous unless what follows
settles it: then no division is given, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pipeline.knowledge import domain

LEVELS = ("province", "prefecture", "county", "township")


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True, slots=True)
class Place:
    """The division an agency name starts with; all None when there is none or it is ambiguous."""

    region_code: str | None = None  # six digits (a township gives its county's code)
    division_code: str | None = None  # the division itself (nine digits for a township)
    level: str | None = None  # central, province, prefecture, county, township
    province: str | None = None
    prefecture: str | None = None
    county: str | None = None
    township: str | None = None
    match: str = "none"  # full, alias, short, central, ambiguous, none


class Divisions:
    def __init__(self, rows: list[Division], aliases: list[dict[str, str]]):
        self.by_code = {d.code: d for d in rows}
        self.full: dict[str, list[str]] = {}
        for d in rows:
            self.full.setdefault(d.name, []).append(d.code)
        self.alias: dict[str, list[str]] = {}
        self.alias_level: dict[str, str] = {}
        self.alias_kind: dict[str, str] = {}
        short_names = {}
        self.central_prefixes, self.central_suffixes = [], []
        for r in aliases:
            if r["kind"] == "alias":
                self.alias.setdefault(r["text"], []).append(r["code"])
                self.alias_level[r["code"]] = r["level"]
                self.alias_kind[r["text"]] = r["kind_of_body"]
            elif r["kind"] == "short_province":
                short_names[r["code"]] = r["text"]
            elif r["kind"] == "central_prefix":
                self.central_prefixes.append(r["text"])
            elif r["kind"] == "central_suffix":
                self.central_suffixes.append(r["text"])
        self.short: dict[str, list[str]] = {}
        for d in rows:
            short = None
            if d.level == "province":
                short = short_names.get(d.name) or d.name.removesuffix("省").removesuffix("市")
            elif d.level == "prefecture" and d.name.endswith("市") and len(d.name) >= 3:
                short = d.name[:-1]
            if short and short != d.name and len(short) >= 2:
                self.short.setdefault(short, []).append(d.code)
        # the lengths of the names starting with each character, longest first: a name is looked up
        # only at lengths some name has (most agencies are looked up once, so this is the hot loop)
        lengths: dict[str, set[int]] = {}
        for known in (*self.full, *self.alias, *self.short):
            lengths.setdefault(known[0], set()).add(len(known))
        self.lengths_from = {first: sorted(ns, reverse=True) for first, ns in lengths.items()}

    def path(self, code: str) -> list[Division]:
        out = []
        while code:
            d = self.by_code[code]
            out.append(d)
            code = d.parent_code
        return out[::-1]

    def _inside(self, code: str, ancestor: str) -> bool:
        return any(d.code == ancestor for d in self.path(code))

    def _chains(self, name: str, pos: int, ancestor: str | None, tables) -> list[tuple[int, list]]:
        """The longest chains of names from ``pos``: [(end, [(code, how), ...])]."""
        best: list[tuple[int, list]] = [(pos, [])]
        if pos >= len(name):
            return best
        for n in self.lengths_from.get(name[pos], ()):
            if n > len(name) - pos:
                continue
            piece = name[pos:pos + n]
            for how, table in tables:
                for code in table.get(piece, ()):
                    if ancestor is not None and (code == ancestor or not self._inside(code, ancestor)):
                        continue
                    for end, tail in self._chains(name, pos + n, code, tables):
                        if end > best[0][0]:
                            best = [(end, [(code, how), *tail])]
                        elif end == best[0][0] and end > pos:
                            best.append((end, [(code, how), *tail]))
        return best

    def lookup(self, name: str) -> Place:
        name = name.strip()
        tables = [("full", self.full), ("alias", self.alias)]
        chains = self._chains(name, 0, None, tables)
        if chains[0][0] == 0:  # no official full name at the start: short forms before 开发区 / 新区
            chains = [c for c in self._chains(name, 0, None, tables + [("short", self.short)])
                      if (c[1] and c[1][0][1] == "short") or c[0] == 0]
        if chains[0][0] == 0:
            central = name.startswith(tuple(self.central_prefixes)) or (
                name.endswith(tuple(self.central_suffixes)) and len(name) <= 12)
            return Place(level="central", match="central") if central else Place()
        if len({chain[-1][0] for _, chain in chains}) > 1:
            return Place(match="ambiguous")
        chain = chains[0][1]
        code = chain[-1][0]
        path = self.path(code)
        names = {d.level: d.name for d in path}
        how = "alias" if any(h == "alias" for _, h in chain) else chain[-1][1]
        return Place(next(d.code for d in reversed(path) if len(d.code) == 6), code,
                     self.alias_level.get(code) if how == "alias" else path[-1].level,
                     names.get("province"), names.get("prefecture"), names.get("county"), names.get("township"),
                     how)


@cache
def divisions() -> Divisions:
    rows = [Division(r["code"], r["name"], r["level"], r["parent_code"]) for r in domain.read_table("divisions.csv")]
    return Divisions(rows, domain.read_table("division_aliases.csv"))


@cache
def place_of(agency: str) -> Place:
    return divisions().lookup(agency)


def agency_kind(agency: str) -> str | None:
    """government (a people's government), department, committee (a 管委会) or other, from how the name
    ends (agency_suffixes.csv); a name that is a place alone (盐池县大水坑镇) is its people's government."""
    body = divisions().alias_kind.get(agency)  # a body that is no division, named alone (its 管委会)
    if body:
        return body
    kinds = domain.agency_suffix_kinds()
    return next((kinds[suffix] for suffix in _suffixes_longest_first() if agency.endswith(suffix)), None)


@cache
def _suffixes_longest_first() -> tuple[str, ...]:
    return tuple(sorted(domain.agency_suffix_kinds(), key=len, reverse=True))
