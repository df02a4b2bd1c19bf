"""Regression bar for the real corpus (needs ../shared): the reader must stay at >= 99.5 % of cells."""

import subprocess
import sys

BAR = 99.5


def test_corpus_cell_accuracy_and_metadata_stay_above_the_bar(shared, tmp_path):
    out = tmp_path / "corpus"
    subprocess.run([sys.executable, "-m", "pipeline", "build", str(shared / "corpus" / "raw"), "--out", str(out)],
                   check=True, capture_output=True)
    score = subprocess.run(
        [sys.executable, str(shared / "tools" / "score.py"), str(out), str(shared / "corpus" / "truth.csv"),
         "--meta", str(shared / "corpus" / "truth_meta.csv"), "--min", str(BAR)],
        capture_output=True, text=True)
    last = score.stdout.strip().splitlines()[-1]
    assert score.returncode == 0, score.stdout
    accuracy = float(last.split("cell accuracy ")[1].split("%")[0])
    guessed = int(last.rsplit(":", 1)[1])
    assert accuracy >= BAR and guessed == 0, last
    meta = [line for line in score.stdout.splitlines() if line.startswith("report metadata")][0]
    right, total = meta.split(": ")[1].split("/")
    assert right == total, meta
