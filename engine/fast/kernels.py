"""Fused per-batch kernels, compiled with numba.

NumPy spends one call, and one pass over memory, per operation. On the study's
batches that overhead is most of what a step costs beyond its two large matrix
products: a softmax cross-entropy on a (64, 10) batch is a dozen calls of a few
microseconds each, and an L1 step is four passes over W1 (sign bits, magnitude,
‖W‖₁, subtraction). Each kernel here does such a sequence in one call and one
pass. Element-wise results round as NumPy's would; sums over many elements are
accumulated in a vectorised order, so they may differ from NumPy's in the last
digits.

Kernels are compiled on first use and cached on disk (numba's ``cache=True``)
where there is a writable place for the cache; ``nogil`` lets a run's thread leave
the interpreter to the server's threads.
The NumPy reference for every kernel lives in the tests.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from numba import njit

# Only reassociation: lets the compiler vectorise the sums. No flag that would assume
# away NaN or infinity (a diverging run must still show them) or fuse a multiply and an
# add (the weights must round exactly as the NumPy reference does).
_SUMS = {"reassoc"}


def _kernel(**options):
    """numba's ``njit(nogil=True)`` with its disk cache where one can be written.

    numba caches next to this file or in the user's cache directory. Where neither is
    writable (a read-only install run by a user without a home), it refuses to cache
    and raises at import. Then the kernels compile in memory in every process instead
    (a few seconds at start), which beats an engine that cannot be imported.
    """
    def decorate(fn):
        try:
            return njit(nogil=True, cache=True, **options)(fn)
        except RuntimeError as exc:
            if "cannot cache" not in str(exc):
                raise
            warnings.warn("numba has nowhere writable to cache the engine's kernels, so every process "
                          "compiles them again; set NUMBA_CACHE_DIR to a writable directory",
                          RuntimeWarning)
            return njit(nogil=True, cache=False, **options)(fn)
    return decorate


@_kernel(fastmath=_SUMS)
def penalty_step(w: np.ndarray, decay: float, l1_step: float) -> tuple[float, float]:
    """``w ← decay·w − l1_step·sign(w)`` in place; return ``(Σ|w|, Σw²)`` of ``w`` before the step.

    ``sign`` is the sign bit, so ±0 moves by ∓``l1_step`` (the subgradient convention of
    ``engine.penalties.L1``). ``w`` must be C-contiguous. The sums are accumulated in
    ``w``'s dtype in many vectorised partial sums (relative error ~1e-6 for float32 on
    W1), which keeps the pass as fast as a plain copy of ``w``.
    """
    flat = w.reshape(-1)
    zero = flat.dtype.type(0)
    decay_t = flat.dtype.type(decay)
    step_t = flat.dtype.type(l1_step)
    sum_abs = zero
    sum_sq = zero
    for i in range(flat.size):
        v = flat[i]
        sum_abs += abs(v)
        sum_sq += v * v
        flat[i] = decay_t * v - np.copysign(step_t, v)
    return float(sum_abs), float(sum_sq)


@_kernel(fastmath=_SUMS)
def add_l1_subgradient(grad: np.ndarray, w: np.ndarray, step: float) -> float:
    """``grad ← grad + step·sign(w)`` in place (sign bit, as ``penalty_step``); return ``Σ|w|``.

    The form for optimizers that need the gradient (momentum). Both arrays C-contiguous.
    """
    out = grad.reshape(-1)
    flat = w.reshape(-1)
    step_t = out.dtype.type(step)
    sum_abs = flat.dtype.type(0)
    for i in range(flat.size):
        v = flat[i]
        sum_abs += abs(v)
        out[i] += np.copysign(step_t, v)
    return float(sum_abs)


@_kernel()
def softmax_cross_entropy_step(logits: np.ndarray, labels: np.ndarray, scale: float,
                               predicted: np.ndarray) -> float:
    """Mean cross-entropy of ``softmax(logits)``; ``logits`` becomes ``scale·dloss/dlogits``.

    Writes each row's argmax (the first, as NumPy's) into ``predicted``. Rows are shifted
    by their maximum, so no exponent overflows. A NaN or infinite logit makes the loss
    NaN, which the training loop reports as divergence. Raises ValueError for a label
    outside ``[0, k)``.
    """
    n, k = logits.shape
    total = 0.0
    unit = scale / n
    for i in range(n):
        row = logits[i]
        label = labels[i]
        if label < 0 or label >= k:
            raise ValueError("a label is outside the range of the logits' classes")
        best = 0
        top = row[0]
        for j in range(1, k):
            if row[j] > top:
                best = j
                top = row[j]
        predicted[i] = best
        picked = np.float64(row[label]) - top
        sums = 0.0
        for j in range(k):
            e = math.exp(np.float64(row[j]) - top)
            row[j] = e
            sums += e
        total += math.log(sums) - picked
        factor = unit / sums
        for j in range(k):
            row[j] = row[j] * factor
        row[label] -= unit
    return total / n


@_kernel()
def sigmoid_from_tanh(t: np.ndarray) -> None:
    """``t ← (t + 1)·½`` in place: the sigmoid's last two passes, given ``t = tanh(z/2)``."""
    flat = t.reshape(-1)
    one = flat.dtype.type(1)
    half = flat.dtype.type(0.5)
    for i in range(flat.size):
        flat[i] = (flat[i] + one) * half


@_kernel()
def sigmoid_backward(a: np.ndarray, da: np.ndarray) -> None:
    """``da ← da·a·(1 − a)`` in place: the sigmoid's derivative from its output ``a``."""
    out = da.reshape(-1)
    values = a.reshape(-1)
    one = out.dtype.type(1)
    for i in range(out.size):
        v = values[i]
        out[i] = out[i] * v * (one - v)


@_kernel()
def subtract_column_sums(b: np.ndarray, dz: np.ndarray) -> None:
    """``b ← b − Σᵢ dz[i]`` in place: a bias's SGD step from its batch of (scaled) gradients."""
    n, k = dz.shape
    sums = np.zeros(k, dz.dtype)
    for i in range(n):
        for j in range(k):
            sums[j] += dz[i, j]
    for j in range(k):
        b[j] -= sums[j]


@_kernel()
def preprocess_rows(pixels: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """``out[r] ← pixels[rows[r]]·(2/255) − 1``: the study's input scaling, in ``out``'s dtype.

    Gathering a batch from the uint8 pixels reads a quarter of the bytes a float copy
    of the training set would, and keeps that copy out of memory. ``rows`` must index
    ``pixels`` (not checked: callers pass permutations of its rows).
    """
    scale = out.dtype.type(2.0 / 255.0)
    one = out.dtype.type(1)
    for r in range(rows.size):
        source = pixels[rows[r]]
        target = out[r]
        for j in range(source.size):
            target[j] = out.dtype.type(source[j]) * scale - one



# Contraction only: each weight's term is one fused multiply-add, as in BLAS's products.
@_kernel(fastmath={"contract"})
def subtract_unit_terms(zt: np.ndarray, xt: np.ndarray, starts: np.ndarray, rows: np.ndarray,
                        values: np.ndarray) -> None:
    """``zt[b, j] −= Σₖ values[k]·xt[b, rows[k]]``, k in ``starts[j]:starts[j + 1]``, for every block b and unit j.

    The terms of weights leaving ``zt = W1ᵀ·xt``: zeroing ``W1[i, j]`` takes ``W1[i, j]·x[i]``
    out of unit j's pre-activations. ``zt`` (blocks, units, examples) and ``xt`` (blocks,
    features, examples) hold one column per example, in blocks small enough that a
    block's rows stay in cache while all its terms are applied. The terms of a unit are
    grouped (``starts``: (units + 1,) offsets into ``rows``, ``values``) and taken four at a
    time, so its row is loaded and stored once per four terms.
    """
    for b in range(zt.shape[0]):
        zb = zt[b]
        xb = xt[b]
        width = zb.shape[1]
        for j in range(starts.size - 1):
            target = zb[j]
            k = starts[j]
            end = starts[j + 1]
            while k + 4 <= end:
                s0, s1, s2, s3 = xb[rows[k]], xb[rows[k + 1]], xb[rows[k + 2]], xb[rows[k + 3]]
                w0, w1, w2, w3 = values[k], values[k + 1], values[k + 2], values[k + 3]
                for c in range(width):
                    target[c] = (((target[c] - w0 * s0[c]) - w1 * s1[c]) - w2 * s2[c]) - w3 * s3[c]
                k += 4
            while k < end:
                source = xb[rows[k]]
                w = values[k]
                for c in range(width):
                    target[c] -= w * source[c]
                k += 1
