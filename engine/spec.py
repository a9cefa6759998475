"""Parse the reference study's option spellings such as ``l2(lambd=0.01)`` or ``sgd(lr=0.1)``.

The reference study fed these strings to ``eval``; here they go through a tiny grammar
instead: ``name`` or ``name(key=number, ...)`` with plain decimal numbers only.
Nothing in the text is ever executed, imported or looked up as an attribute.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_SPEC_LENGTH = 200

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"
_SPEC_RE = re.compile(rf"^\s*({_NAME})\s*(?:\((.*)\))?\s*$", re.DOTALL)
_ARG_RE = re.compile(rf"^\s*({_NAME})\s*=\s*({_NUMBER})\s*$")


class SpecError(ValueError):
    """A spec string that does not follow ``name(key=number, ...)``."""


@dataclass(frozen=True)
class Spec:
    """A parsed spec: a lower-case name and its numeric keyword arguments."""

    name: str
    kwargs: dict[str, float]


def parse_spec(text: str) -> Spec:
    """Parse ``name`` or ``name(key=number, ...)`` into a :class:`Spec`.

    Raises SpecError naming what was wrong. Numbers must be finite decimals
    (``1e-4``, ``0.01``, ``-3``); anything else is refused.
    """
    if not isinstance(text, str):
        raise SpecError(f"expected text like 'l2(lambd=0.01)', got {type(text).__name__}")
    if len(text) > MAX_SPEC_LENGTH:
        raise SpecError(f"spec is {len(text)} characters long; at most {MAX_SPEC_LENGTH} are allowed")
    match = _SPEC_RE.match(text)
    if not match:
        raise SpecError(f"cannot read {text!r}: expected name or name(key=number, ...), e.g. 'l2(lambd=0.01)'")
    name, body = match.group(1).lower(), match.group(2)
    kwargs: dict[str, float] = {}
    if body is not None and body.strip():
        for part in body.split(","):
            arg = _ARG_RE.match(part)
            if not arg:
                raise SpecError(
                    f"cannot read argument {part.strip()!r} in {text!r}: expected key=number, e.g. lambd=0.01"
                )
            key, raw = arg.group(1).lower(), arg.group(2)
            if key in kwargs:
                raise SpecError(f"argument {key!r} is given twice in {text!r}")
            value = float(raw)
            if not math.isfinite(value):
                raise SpecError(f"argument {key}={raw} in {text!r} is not a finite number")
            kwargs[key] = value
    return Spec(name=name, kwargs=kwargs)
