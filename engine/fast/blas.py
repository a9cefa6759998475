"""``C ← α·Aᵀ·B + β·C`` in place: the SGD weight step as one BLAS call.

NumPy has no matrix product that accumulates into its output, so ``W -= lr·xᵀ·dz``
costs a product into a buffer and then one more pass over ``W`` (and the L2 decay
``W *= 1 − lr·λ`` another). BLAS's ``gemm`` does all three in one pass. This module
calls ``cblas_?gemm`` of the BLAS library NumPy itself loaded (found with
threadpoolctl, so thread limits apply to it as to NumPy), and falls back to NumPy
when that library or its symbol is not recognised: same result, a little slower.
A binding is used only after it has reproduced NumPy's product on a small test.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

# CBLAS enum values (cblas.h).
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112

# Symbol name templates and their integer width: OpenBLAS as bundled by NumPy wheels
# (scipy-openblas, 64-bit integers, prefixed and suffixed), ILP64 builds, plain CBLAS.
_SYMBOLS = (
    ("scipy_cblas_{t}gemm64_", ctypes.c_int64),
    ("cblas_{t}gemm64_", ctypes.c_int64),
    ("scipy_cblas_{t}gemm", ctypes.c_int),
    ("cblas_{t}gemm", ctypes.c_int),
)
# Below this many entries of C, NumPy's lower call overhead beats the saved pass over C.
_MIN_BLAS_SIZE = 16_384
_TYPES = {np.dtype(np.float32): ("s", ctypes.c_float), np.dtype(np.float64): ("d", ctypes.c_double)}


@dataclass(frozen=True)
class _Gemm:
    """One bound ``cblas_?gemm`` for one dtype."""

    function: ctypes._CFuncPtr
    scalar: type

    def __call__(self, alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray) -> None:
        k, m = a.shape
        n = b.shape[1]
        self.function(_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, alpha, a.ctypes.data, m, b.ctypes.data, n,
                      beta, c.ctypes.data, n)

    def block(self, trans_a: bool, m: int, n: int, k: int, alpha: float, a: int, lda: int, b: int, ldb: int,
              beta: float, c: int, ldc: int) -> None:
        """One row-major ``C ← α·op(A)·B + β·C`` on raw addresses: a block of a larger product."""
        self.function(_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS, _NO_TRANS, m, n, k, alpha, a, lda, b, ldb,
                      beta, c, ldc)


def _bind(library: ctypes.CDLL, dtype: np.dtype) -> _Gemm | None:
    letter, scalar = _TYPES[dtype]
    for template, integer in _SYMBOLS:
        function = getattr(library, template.format(t=letter), None)
        if function is None:
            continue
        pointer = ctypes.c_void_p
        function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer, scalar, pointer,
                             integer, pointer, integer, scalar, pointer, integer]
        function.restype = None
        return _Gemm(function, scalar)
    return None


def _numpy_blas_library() -> ctypes.CDLL | None:
    """The BLAS library NumPy loaded (the one inside NumPy's install when several are)."""
    numpy_dir = Path(np.__file__).resolve().parent
    candidates = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    candidates.sort(key=lambda info: not Path(info["filepath"]).resolve().is_relative_to(numpy_dir.parent))
    for info in candidates:
        try:
            return ctypes.CDLL(info["filepath"])
        except OSError:
            continue
    return None


def _verified(gemm: _Gemm, dtype: np.dtype) -> bool:
    """Whether ``gemm`` reproduces NumPy on a small, deliberately non-square case."""
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(shape).astype(dtype) for shape in ((5, 3), (5, 4), (3, 4)))
    expected = 0.5 * c - 2.0 * (a.T @ b)
    gemm(-2.0, a, b, 0.5, c)
    return bool(np.allclose(c, expected, rtol=1e-4, atol=1e-5))


def _load() -> dict[np.dtype, _Gemm]:
    library = _numpy_blas_library()
    bound = {}
    if library is not None:
        for dtype in _TYPES:
            gemm = _bind(library, dtype)
            if gemm is not None and _verified(gemm, dtype):
                bound[dtype] = gemm
    return bound


_GEMMS: dict[np.dtype, _Gemm] = _load()


def bound_gemm(dtype: np.dtype | str) -> _Gemm | None:
    """The verified BLAS binding for ``dtype``, or None (NumPy must do the work)."""
    return _GEMMS.get(np.dtype(dtype))


def has_fast_gemm(dtype: np.dtype | str) -> bool:
    """Whether ``gemm_tn`` calls BLAS directly for this dtype (otherwise NumPy does the work)."""
    return np.dtype(dtype) in _GEMMS


def gemm_tn(alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray, *, use_blas: bool = True) -> None:
    """``c ← alpha·aᵀ·b + beta·c`` in place; ``a`` (k, m), ``b`` (k, n), ``c`` (m, n).

    All three must be of one float dtype (checked). Large C-contiguous products go to
    BLAS; small ones, others and ``use_blas=False`` (for tests) take the NumPy path.
    """
    dtype = c.dtype
    if a.dtype != dtype or b.dtype != dtype or a.shape[0] != b.shape[0] or c.shape != (a.shape[1], b.shape[1]):
        raise ValueError(f"gemm_tn: shapes {a.shape} {b.shape} {c.shape} / dtypes {a.dtype} {b.dtype} {dtype} do not fit")
    gemm = _GEMMS.get(dtype) if use_blas and c.size >= _MIN_BLAS_SIZE else None
    if gemm is not None and a.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous:
        gemm(alpha, a, b, beta, c)
        return
    if beta != 1.0:
        c *= beta
    if alpha == -1.0:  # the SGD step: one call fewer
        c -= a.T @ b
        return
    product = a.T @ b
    if alpha != 1.0:
        product *= alpha
    c += product
