"""OGI annual-report dataset builder: raw report text -> validated long facts (Parquet + DuckDB)."""

import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) keeps freed pages for 0.5-1.5 s before returning them to the system.
# A build frees a batch's frames every second or so, so each process carried 100-200 MB it no
# longer used; returning them at once costs about 5 % more CPU in the workers. It must be set before
# polars is first imported (workers inherit it); a value the user sets is kept.
ALLOCATOR_SETTING = "dirty_decay_ms:0,muzzy_decay_ms:0"
os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_SETTING)
