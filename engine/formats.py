"""How numbers are written for a person, the same way as the pages write them (static/js/format.js):
accuracy and other fractions in percent with 2 decimals ("90.17 %"), a difference of two of them in
percentage points ("−1.80 pp"), λ with at most 4 significant digits and short exponents ("1e-4",
"3.16e-5", "0.01")."""
from __future__ import annotations

import math


def fmt_lambda(value: float) -> str:
    """λ (or any small positive setting): ``1e-4``, ``3.16e-5``, ``0.01``, ``0``."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) < 1e-3 or abs(value) >= 1e6:
        mantissa, exponent = f"{value:.3e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exponent)}"
    text = repr(float(f"{value:.4g}"))  # 60000 stays "60000" (%g alone: "6e+04")
    return text[:-2] if text.endswith(".0") else text


def fmt_percent(fraction: float, digits: int = 2) -> str:
    """A fraction in percent: 0.90166 → ``90.17 %``."""
    return f"{fraction * 100:.{digits}f} %"


def fmt_change(change: float, digits: int = 3) -> str:
    """A change with its sign, as a person writes it: +0.012, −0.410 (a true minus), ±0.000."""
    text = f"{abs(change):.{digits}f}"
    if float(text) == 0:
        return f"±{text}"
    return ("+" if change > 0 else "−") + text


def fmt_points(difference: float, digits: int = 2, sign: bool = False) -> str:
    """A difference of two fractions in percentage points: −0.018 → ``-1.80 pp`` (``sign``: ``+`` too)."""
    return f"{difference * 100:{'+' if sign else ''}.{digits}f} pp"
