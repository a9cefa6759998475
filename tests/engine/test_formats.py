"""Numbers for a person: the conventions static/js/format.js writes them in (tests/browser checks the two agree)."""
import pytest

from engine.formats import fmt_change, fmt_lambda, fmt_percent, fmt_points


@pytest.mark.parametrize("value, text", [(1e-4, "1e-4"), (0.0001, "1e-4"), (3.16e-5, "3.16e-5"), (0.01, "0.01"),
                                         (0.001, "0.001"), (0.5, "0.5"), (0.0, "0"), (10.0, "10"), (60000.0, "60000"),
                                         (1.2346e-4, "1.235e-4")])
def test_lambda_is_written_with_short_exponents(value, text):
    assert fmt_lambda(value) == text


def test_fractions_are_percent_and_their_differences_points():
    assert fmt_percent(0.71651) == "71.65 %" and fmt_percent(0.1234, 1) == "12.3 %"
    assert fmt_points(-0.0183) == "-1.83 pp" and fmt_points(0.0183, sign=True) == "+1.83 pp"


@pytest.mark.parametrize("change, text", [(-0.41, "−0.410"), (0.0123, "+0.012"), (-0.0001, "±0.000"), (0.0, "±0.000")])
def test_a_change_is_written_with_a_true_minus(change, text):
    assert fmt_change(change) == text
