"""Unpickling that can build numpy arrays and nothing else.

A pickle is a program: ``pickle.load`` imports and calls whatever the file names (for example
``os.system``). :class:`ArrayUnpickler` resolves only the handful of globals that numpy array
pickles use, so a hostile or corrupt file fails with an error instead of running code.
"""

from __future__ import annotations

import codecs
import io
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import DataError

try:  # numpy >= 2 (also present as a shim in 1.26)
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - older numpy
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]


def _latin1_encode(obj: object, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """What protocol-2 pickles made by Python 3 call to rebuild ``bytes``; latin-1 only."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise pickle.UnpicklingError("_codecs.encode is admitted only as str -> latin-1 bytes")
    return codecs.encode(obj, "latin-1")


def _empty_bytes(*args: object) -> bytes:
    """What protocol-2 pickles made by Python 3 call to rebuild ``b""``; no arguments allowed."""
    if args:
        raise pickle.UnpicklingError("bytes(...) is admitted only without arguments")
    return b""


def _allowed(module: str, name: str) -> Callable[..., Any] | type | None:
    """The object a numpy array pickle may name, or None for anything else."""
    if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        return _reconstruct
    if module == "numpy" and name == "ndarray":
        return np.ndarray
    if module == "numpy" and name == "dtype":
        return np.dtype
    if module == "_codecs" and name == "encode":
        return _latin1_encode
    if module in ("__builtin__", "builtins") and name == "bytes":
        return _empty_bytes
    return None


class ArrayUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` whose ``find_class`` admits only what numpy arrays need."""

    def find_class(self, module: str, name: str) -> Any:
        found = _allowed(module, name)
        if found is None:
            raise pickle.UnpicklingError(
                f"refused to load global {module}.{name}: only numpy arrays are allowed"
            )
        return found


def loads_arrays(data: bytes, origin: str = "pickle") -> Any:
    """Unpickle ``data`` with :class:`ArrayUnpickler` (latin-1 for Python 2 pickles).

    Raises DataError for a refused global or a malformed pickle; never runs foreign code.
    """
    try:
        return ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as e:
        raise DataError(f"{origin}: unsafe or malformed pickle ({e})") from None
