import pandera.errors
import polars as pl
import pytest
from conftest import pipe_report_2021

from pipeline.knowledge import schemas
from pipeline.process import process_bytes
from pipeline.ingest.discover import SourceFile


@pytest.fixture
def facts() -> pl.DataFrame:
    return process_bytes(SourceFile(None, "r.txt"), pipe_report_2021().encode()).facts_frame()


def test_builder_output_passes_the_facts_model(facts):
    schemas.Facts.validate(facts, lazy=True)
    assert facts.filter(pl.col("status") != "derived").height == 200


def _broken(facts, **changes):
    first = facts.head(1).with_columns(**{k: pl.lit(v, dtype=facts.schema[k]) for k, v in changes.items()})
    return pl.concat([first, facts.slice(1)])


@pytest.mark.parametrize("changes, message", [
    ({"row": "no_such_row"}, "codes.csv"),
    ({"value": -3.0}, "never negative"),
    ({"value": None}, "null exactly"),
    ({"status": "guessed"}, "isin"),
])
def test_facts_model_rejects_bad_output(facts, changes, message):
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        schemas.Facts.validate(_broken(facts, **changes), lazy=True)
    assert message in str(err.value)


def test_facts_model_rejects_two_facts_for_one_cell(facts):
    with pytest.raises(pandera.errors.SchemaErrors, match="one fact per report"):
        schemas.Facts.validate(pl.concat([facts, facts.head(1)]), lazy=True)
