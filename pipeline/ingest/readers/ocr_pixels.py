"""A page picture to the grids of its tables: ink, skew, ruling lines found in the pixels.

Every length is in inches times the picture's dpi, so the same settings hold from 96 to 300 dpi:

* ink: darker than Otsu's threshold, capped so that light grey shading stays paper;
* skew: the angle (within 2°) that maximises the energy of the horizontal projection of the ink;
* ruling lines: dark runs at least :data:`MIN_LINE_IN` long (gaps up to :data:`MAX_GAP_IN` closed),
  thin across (thicker ink is a block, not a line); the runs of neighbouring pixel rows that overlap
  are one line, at their mean position (two tables' borders a few pixels apart stay two lines);
* lines that cannot be borders are dropped: a horizontal line meets two vertical ones and a vertical
  line two horizontal ones, and a line with glyphs standing on it and nothing under it is an underline;
* only the pixels of the lines kept are line pixels (painted white under the cells' text);
* then the lines, in points, go to :func:`pipeline.ingest.readers.grid.build_grids`, as a PDF's do.
"""

from __future__ import annotations

import numpy as np

from pipeline.ingest.readers.grid import SNAP, Grid, Rule, build_grids, merge_rules, outermost

MIN_LINE_IN = 0.25  # longer than any body-text stroke
MAX_GAP_IN = 0.02  # JPEG speckle and anti-aliasing gaps inside one line
MAX_THICK_IN = 0.045  # thicker dark runs are blocks (shading, photos), not lines
MAX_SKEW_DEG = 2.0
MIN_TABLE_W_IN = 1.0  # a table is at least an inch wide ...
MIN_TABLE_H_IN = 0.15  # ... and one row high (a table's last row alone on the next page)
TOUCH_IN = 0.015  # ink going on this far from a line pixel touches the line (a glyph may be cut)
INK_CAP = 200
SKEW_SAMPLE = 200_000  # ink pixels the skew is measured on (a page has a few hundred thousand)


def otsu(gray: np.ndarray) -> int:
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    omega = np.cumsum(hist) / hist.sum()
    mu = np.cumsum(hist * np.arange(256)) / hist.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    return int(np.argmax(np.nan_to_num(between)))


def ink_mask(gray: np.ndarray) -> np.ndarray:
    return gray <= min(otsu(gray), INK_CAP)


def estimate_skew(ink: np.ndarray) -> float:
    """Degrees the content is turned (positive: anticlockwise); the middle of the best plateau."""
    ys, xs = np.nonzero(ink)
    if len(ys) < 500:
        return 0.0
    if len(ys) > SKEW_SAMPLE:
        pick = np.random.default_rng(0).choice(len(ys), SKEW_SAMPLE, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - xs.mean()
    n = int(ink.shape[0]) + 1

    def score(deg: float) -> float:
        proj = np.round(ys + xs * np.tan(np.radians(deg))).astype(np.int64)
        counts = np.bincount(proj[(proj >= 0) & (proj < n)], minlength=n).astype(np.float64)
        return float((counts * counts).sum())

    def best(angles: np.ndarray) -> float:
        scores = np.array([score(a) for a in angles])
        near = angles[scores >= 0.995 * scores.max()]
        return float((near.min() + near.max()) / 2)

    coarse = best(np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 1e-9, 0.25))
    return best(np.arange(coarse - 0.3, coarse + 0.3 + 1e-9, 0.03))


def deskew(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The picture turned straight, its ink, and the angle found."""
    from PIL import Image

    ink = ink_mask(gray)
    angle = estimate_skew(ink)
    if abs(angle) < 0.05:
        return gray, ink, 0.0
    turned = np.asarray(Image.fromarray(gray).rotate(-angle, resample=Image.BICUBIC, fillcolor=255))
    return turned, ink_mask(turned), angle


def runs(mask: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True per pixel row, gaps up to ``max_gap`` closed: (row, start, end)."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    sr, sc = np.nonzero(d == 1)
    _, ec = np.nonzero(d == -1)
    if len(sr) == 0:
        return sr, sc, ec
    new = np.ones(len(sr), dtype=bool)
    new[1:] = (sr[1:] != sr[:-1]) | (sc[1:] - ec[:-1] > max_gap)
    segment = np.cumsum(new) - 1
    ends = np.zeros(int(new.sum()), dtype=np.int64)
    np.maximum.at(ends, segment, ec)
    return sr[new], sc[new], ends


def paint(shape, rows, starts, ends) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        out[r, s:e] = True
    return out


def line_masks(ink: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of horizontal and of vertical ruling lines: long dark runs that are thin across."""
    min_len, gap, thick = _lengths(dpi)
    masks = []
    for m in (ink, ink.T):
        r, s, e = runs(m, gap)
        keep = (e - s) >= min_len
        long_runs = paint(m.shape, r[keep], s[keep], e[keep])
        rt, st, et = runs(long_runs.T, 0)
        fat = (et - st) > thick
        long_runs &= ~paint(long_runs.T.shape, rt[fat], st[fat], et[fat]).T
        masks.append(long_runs)
    return masks[0], masks[1].T


def _lengths(dpi: float) -> tuple[int, int, int]:
    return (max(12, int(MIN_LINE_IN * dpi)), max(1, int(round(MAX_GAP_IN * dpi))),
            max(3, int(round(MAX_THICK_IN * dpi))))


def mask_rules(hmask: np.ndarray, vmask: np.ndarray, dpi: float) -> list[Rule]:
    """Lines in points from the line masks: overlapping runs of neighbouring pixel rows are one line
    (its thickness), at their mean position."""
    min_len, gap, _ = _lengths(dpi)
    k = 72.0 / dpi
    rules = []
    for horizontal, m in ((True, hmask), (False, vmask.T)):
        r, s, e = runs(m, gap)
        keep = (e - s) >= min_len
        lines: list[list[float]] = []  # last row, start, end, sum of row * length, length
        open_lines: list[int] = []
        for row, a, b in sorted(zip(r[keep].tolist(), s[keep].tolist(), e[keep].tolist())):
            open_lines = [i for i in open_lines if lines[i][0] >= row - 1]
            for i in open_lines:
                line = lines[i]
                if a < line[2] and b > line[1] and line[0] < row:
                    line[0], line[1], line[2] = row, min(line[1], a), max(line[2], b)
                    line[3] += row * (b - a)
                    line[4] += b - a
                    break
            else:
                lines.append([row, a, b, row * (b - a), b - a])
                open_lines.append(len(lines) - 1)
        rules.extend(Rule(horizontal, (weighted / length + 0.5) * k, a * k, b * k)
                     for _, a, b, weighted, length in lines)
    return rules


def border_rules(rules: list[Rule], ink: np.ndarray, dpi: float) -> list[Rule]:
    """Only lines that can be table borders: each meets two lines across it, and a horizontal line
    meeting exactly two is no underline (glyphs standing on it, nothing under it)."""
    merged = merge_rules(rules, SNAP)
    for _ in range(3):
        hs = [r for r in merged if r.horizontal]
        vs = [r for r in merged if not r.horizontal]
        kept = []
        for h in hs:
            n = _meets(h, vs)
            if n > 2 or (n == 2 and not _text_on_top(h, ink, dpi)):
                kept.append(h)
        kept += [v for v in vs if _meets(v, hs) >= 2]
        if len(kept) == len(merged):
            break
        merged = kept
    return merged


def _meets(a: Rule, others: list[Rule], tol: float = SNAP) -> int:
    return sum(1 for o in others if a.start - tol <= o.pos <= a.end + tol and o.start - tol <= a.pos <= o.end + tol)


def _text_on_top(h: Rule, ink: np.ndarray, dpi: float) -> bool:
    k = dpi / 72.0
    y = int(round(h.pos * k))
    x0, x1 = int(h.start * k) + 3, int(h.end * k) - 3
    gap, band = max(2, int(round(0.015 * dpi))), max(3, int(round(0.03 * dpi)))
    if x1 - x0 < 10 or y - gap - band < 0 or y + gap + band > ink.shape[0]:
        return False
    above = ink[y - gap - band:y - gap, x0:x1].any(axis=0).mean()
    below = ink[y + gap:y + gap + band, x0:x1].any(axis=0).mean()
    return above >= 0.3 and below < 0.1


def dilate(mask: np.ndarray, n: int) -> np.ndarray:
    out = mask.copy()
    for axis in (0, 1):
        for step in range(1, n + 1):
            out |= np.roll(mask, step, axis=axis) | np.roll(mask, -step, axis=axis)
    return out


def touching(ink: np.ndarray, lines: np.ndarray, dpi: float) -> np.ndarray:
    """Ink right next to a line pixel that goes on away from it: a glyph touching a line, which may
    have lost pixels to it (such a cell's number is never trusted by its readings alone)."""
    n = max(2, int(round(TOUCH_IN * dpi)))
    out = np.zeros_like(ink)
    for axis in (0, 1):
        for step in (1, -1):
            run = np.roll(lines, step, axis=axis) & ink
            for i in range(1, n):
                run &= np.roll(ink, -step * i, axis=axis)
            out |= run
    out[:n, :] = out[-n:, :] = False
    out[:, :n] = out[:, -n:] = False
    return out


def find_grids(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray, float, list[Grid], np.ndarray]:
    """The straightened picture, its ink, the skew found, the table grids (points) and the line pixels."""
    gray, ink, angle = deskew(gray)
    hmask, vmask = line_masks(ink, dpi)
    lines = hmask | vmask
    rules = border_rules(mask_rules(hmask, vmask, dpi), ink & ~lines, dpi)
    lines = on_rules(hmask, rules, True, dpi) | on_rules(vmask, rules, False, dpi)
    grids = [g for g in build_grids(rules)
             if g.x1 - g.x0 >= MIN_TABLE_W_IN * 72 and g.bottom - g.top >= MIN_TABLE_H_IN * 72]
    grids = outermost(grids)
    return gray, ink, angle, grids, lines


def on_rules(mask: np.ndarray, rules: list[Rule], horizontal: bool, dpi: float) -> np.ndarray:
    """The pixels of a line mask that lie on the border lines kept: a long run of text strokes (the
    aligned bars of two or three Han characters, gaps closed) is no border, and painting it white
    would erase the characters it crosses."""
    k = dpi / 72.0
    _, _, thick = _lengths(dpi)
    out = np.zeros_like(mask)
    m, o = (mask, out) if horizontal else (mask.T, out.T)
    for rule in (r for r in rules if r.horizontal == horizontal):
        y0, y1 = max(0, int(rule.pos * k) - thick), int(rule.pos * k) + thick + 2
        x0, x1 = max(0, int(rule.start * k) - thick), int(rule.end * k) + thick + 2
        o[y0:y1, x0:x1] |= m[y0:y1, x0:x1]
    return out
