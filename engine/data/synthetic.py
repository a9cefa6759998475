"""A deterministic MNIST-shaped stand-in: digits made of shared random strokes.

Ten classes, each a fixed set of three strokes drawn from a common pool of curved strokes
(so classes share parts, as digits do). An example is its class's strokes with random
per-stroke intensity, an occasionally missing stroke, a pen width, a shift of up to two
pixels, sometimes a stray stroke from the pool, pixel jitter and a few specks. A missing
stroke plus a stray one can turn one class into another, so no model reaches 100 %; a small
MLP gets roughly 90 %. The stroke alphabet is fixed; ``seed`` draws the examples.

Everything is built from small lookup tables (a few thousand 28×28 templates) and bulk uint8
operations, so 70 000 examples take a fraction of a second.
"""

from __future__ import annotations

import numpy as np

from .dataset import IMAGE_SIDE, N_CLASSES, N_FEATURES, Dataset, Splits

MAX_TRAIN = 60_000
MAX_TEST = 10_000

_ALPHABET_SEED = 1_000_003  # fixes the strokes and the classes' stroke sets
_N_STROKES = 12              # size of the shared stroke pool
_STROKES_PER_CLASS = 3
_N_VARIANTS = 16             # intensity / dropout variants per class
_KEEP_PROB = 0.88            # chance each of a class's strokes is drawn
_PAD = 2                     # max shift in pixels
_SHIFT_PROBS = (0.1, 0.2, 0.4, 0.2, 0.1)
_HALF_WIDTHS = (1.0, 1.5)    # thin and thick pen
_STRAY_PROB = 0.3            # chance of one stray stroke from another class
_STRAY_LEVELS = (0.45, 0.65, 0.85)
_SPECK_EVERY = 256           # about one speck per 256 pixels
_SPECK_VALUE = 200


def _render_strokes(rng: np.random.Generator) -> np.ndarray:
    """Pool strokes as anti-aliased images on a padded canvas: (widths, strokes, side, side)."""
    side = IMAGE_SIDE + 2 * _PAD
    strokes: list[np.ndarray] = []
    while len(strokes) < _N_STROKES:
        p0, p2 = rng.uniform(6.0, 21.0, size=(2, 2))
        if np.hypot(*(p2 - p0)) < 8.0:
            continue
        normal = np.array([p0[1] - p2[1], p2[0] - p0[0]]) / np.hypot(*(p2 - p0))
        p1 = (p0 + p2) / 2 + normal * rng.normal(0.0, 4.0)
        t = np.linspace(0.0, 1.0, 40)[:, None]
        strokes.append((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2 + _PAD)
    pts = np.stack(strokes)                                       # (P, 40, 2) as (row, col)
    grid = np.indices((side, side)).reshape(2, -1).T.astype(float)     # (side*side, 2)
    dist = np.sqrt(((grid[None, :, None, :] - pts[:, None, :, :]) ** 2).sum(-1)).min(-1)
    hw = np.asarray(_HALF_WIDTHS)[:, None, None]
    ink = np.clip(hw + 0.5 - dist[None], 0.0, 1.0)                # (W, P, side*side)
    return ink.reshape(len(_HALF_WIDTHS), _N_STROKES, side, side)


def _class_sets(rng: np.random.Generator) -> np.ndarray:
    """Ten distinct stroke sets (10, 3), indices into the pool."""
    sets: list[tuple[int, ...]] = []
    while len(sets) < N_CLASSES:
        s = tuple(sorted(rng.choice(_N_STROKES, _STROKES_PER_CLASS, replace=False).tolist()))
        if s not in sets:
            sets.append(s)
    return np.array(sets)


def _windows(canvas: np.ndarray) -> np.ndarray:
    """All shifted 28×28 crops of padded canvases (..., side, side) -> (..., shifts, 784)."""
    n = 2 * _PAD + 1
    side = IMAGE_SIDE
    crops = [canvas[..., dy : dy + side, dx : dx + side] for dy in range(n) for dx in range(n)]
    return np.stack(crops, axis=-3).reshape(*canvas.shape[:-2], n * n, N_FEATURES)


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class templates (10, V, W, S, 784), stray strokes (L, W, P, S, 784), non-member pools."""
    rng = np.random.default_rng(_ALPHABET_SEED)
    ink = _render_strokes(rng)                                    # (W, P, side, side)
    sets = _class_sets(rng)
    weights = np.zeros((N_CLASSES, _N_VARIANTS, _N_STROKES))
    for c, members in enumerate(sets):
        level = rng.uniform(0.6, 1.0, size=(_N_VARIANTS, len(members)))
        keep = rng.random((_N_VARIANTS, len(members))) < _KEEP_PROB
        keep[0] = True                                            # one complete variant each
        keep[keep.sum(1) < 2, :2] = True                          # never fewer than two strokes
        weights[c][:, members] = level * keep
    canvas = np.clip(np.einsum("cvp,wpij->cvwij", weights, ink), 0.0, 1.0)
    templates = np.round(_windows(canvas) * 255).astype(np.uint8)
    levels = np.asarray(_STRAY_LEVELS)[:, None, None, None, None]
    strays = np.round(_windows(ink)[None] * levels * 255).astype(np.uint8)
    others = np.array([[p for p in range(_N_STROKES) if p not in s] for s in sets])
    return templates, strays, others


def _draw(rng: np.random.Generator, n: int, tables: tuple[np.ndarray, ...]) -> Splits:
    templates, strays, others = tables
    y = rng.permutation(np.arange(n) % N_CLASSES).astype(np.int64)
    n_shift = 2 * _PAD + 1
    shift = (
        rng.choice(n_shift, n, p=_SHIFT_PROBS) * n_shift + rng.choice(n_shift, n, p=_SHIFT_PROBS)
    )
    width = rng.integers(0, len(_HALF_WIDTHS), n)
    variant = rng.integers(0, _N_VARIANTS, n)
    flat = templates.reshape(-1, N_FEATURES)
    x = flat[np.ravel_multi_index((y, variant, width, shift), templates.shape[:-1])]
    stray = np.flatnonzero(rng.random(n) < _STRAY_PROB)
    k = stray.size
    stroke = others[y[stray], rng.integers(0, others.shape[1], k)]
    s_idx = np.ravel_multi_index(
        (rng.integers(0, len(_STRAY_LEVELS), k), width[stray], stroke,
         rng.integers(0, n_shift * n_shift, k)),
        strays.shape[:-1],
    )
    x[stray] = np.maximum(x[stray], strays.reshape(-1, N_FEATURES)[s_idx])
    jitter = rng.integers(0, 256, size=x.shape, dtype=np.uint8)  # full byte range is fastest
    np.right_shift(jitter, 3, out=jitter)
    np.minimum(x, jitter, out=jitter)
    np.subtract(x, jitter, out=x)                                 # ragged, slightly dimmer ink
    flat_x = x.reshape(-1)
    specks = rng.integers(0, flat_x.size, flat_x.size // _SPECK_EVERY)
    flat_x[specks] = np.maximum(flat_x[specks], _SPECK_VALUE)     # rare bright specks
    return Splits(x, y, np.empty((0, N_FEATURES), np.uint8), np.empty(0, np.int64))


def synthetic_dataset(n_train: int = MAX_TRAIN, n_test: int = MAX_TEST, seed: int = 0) -> Dataset:
    """A deterministic MNIST-shaped dataset: same (n_train, n_test, seed) -> same arrays.

    Train and test come from independent streams of ``seed``, so they never share examples
    by construction and the test set does not depend on ``n_train``.
    """
    for name, value, top in (("n_train", n_train, MAX_TRAIN), ("n_test", n_test, MAX_TEST)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if not 1 <= value <= top:
            raise ValueError(f"{name} must be between 1 and {top}, got {value}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    tables = _tables()
    streams = np.random.SeedSequence(int(seed)).spawn(2)
    train_rng, test_rng = (np.random.default_rng(s) for s in streams)
    train = _draw(train_rng, int(n_train), tables)
    test = _draw(test_rng, int(n_test), tables)
    splits = Splits(train.x_train, train.y_train, test.x_train, test.y_train)
    return Dataset.from_splits("synthetic", splits, source=f"generated (seed {seed})")
