"""OGI annual-report dataset builder: raw report text -> validated long facts (Parquet + DuckDB)."""

__version__ = "0.1.0"
