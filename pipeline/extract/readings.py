"""What reading the tables gives: per table its rows, each row's alignment of values to columns."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.extract.align import Alignment
from pipeline.extract.stream import Token


@dataclass
class RowReading:
    code: str
    alignment: Alignment
    label_line: int | None
    tokens: list[Token] = field(default_factory=list)  # the values printed after the label, as read


@dataclass
class TableReading:
    section: str
    found: bool
    template: str | None = None
    rows: dict[str, RowReading] = field(default_factory=dict)
    missing_rows: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Tables:
    proactive: TableReading
    requests: TableReading
    appeals: TableReading
    template: str | None
    run_together: bool
    notes: list[str] = field(default_factory=list)
    prose: list = field(default_factory=list)  # ProseLine: the text outside the tables (extract.prose)

    def all(self) -> tuple[TableReading, TableReading, TableReading]:
        return (self.proactive, self.requests, self.appeals)
