"""What a worker process of a build runs: a batch read (``process.process_batch``) and, in a build
with a cache, put into the cache by the worker itself.

Kept apart from ``process`` on purpose: the cache key covers the modules ``process`` imports, and
where a result is written does not change it. A worker imports nothing of the warehouse either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import cache as cache_mod
from pipeline.ingest.discover import SourceFile
from pipeline.process import BATCH_FRAMES, BatchResult, Limits, batch_key, process_batch


@dataclass(frozen=True)
class CachedBatch:
    """A batch a worker put into the cache itself: only its key goes back to the build."""
    key: str


def process_batch_into_cache(batch: list[SourceFile], limits: Limits,
                             cache_folder: Path | None) -> BatchResult | CachedBatch:
    """``process_batch`` in a worker of a build with a cache: a result the cache can hold goes there
    from the worker and only its key comes back, so the workers can read on while the build copies
    cached batches, without the results they read piling up in its memory."""
    result = process_batch(batch, limits, cache_folder)
    if cache_folder is None or not result.cacheable:
        return result
    key = batch_key(batch, result.reports["sha256"].to_list(), limits)
    cache = cache_mod.Cache(cache_folder)
    cache.put_frames("batch", key, {name: getattr(result, name) for name in BATCH_FRAMES})
    return CachedBatch(key) if cache.has_frames("batch", key) else result
