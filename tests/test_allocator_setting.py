"""The builder's allocator setting reaches polars and makes freed frames leave the process at once."""

import os
import subprocess
import sys
from pathlib import Path

import pipeline

ROOT = Path(__file__).resolve().parents[1]

# frees a 80 MB frame and prints the polars allocator setting and how much RSS fell 0.3 s later
# (the small frames after the pause give the allocator the events on which it returns pages)
FREE_A_FRAME = """
import pipeline, polars as pl, os, time
def rss_mb(): return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) // 1024
frame = pl.select(pl.int_range(0, 5_000_000, dtype=pl.Int64).alias("x")).with_columns(y=pl.col("x") * 2)
before = rss_mb(); del frame; time.sleep(0.3)
for _ in range(200): pl.DataFrame({"a": list(range(100))}).sum()
after = rss_mb()
print(os.environ["_RJEM_MALLOC_CONF"]); print(before - after)
"""


def _free_a_frame(**env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run([sys.executable, "-c", FREE_A_FRAME], env={**clean, "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, check=True)
    setting, fell = done.stdout.split()
    return setting, int(fell)


def test_importing_pipeline_gives_polars_the_quick_return_setting_and_a_freed_frame_leaves_rss():
    setting, fell_mb = _free_a_frame()
    # polars puts its own defaults first and ours after them, so ours win
    assert setting.endswith("," + pipeline.ALLOCATOR_SETTING)
    assert fell_mb >= 60  # of the 80 MB frame


def test_a_users_own_allocator_setting_is_kept():
    setting, _ = _free_a_frame(_RJEM_MALLOC_CONF="narenas:2")
    assert setting.endswith(",narenas:2") and pipeline.ALLOCATOR_SETTING not in setting
