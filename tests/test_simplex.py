import numpy as np
import pytest

from prefalign import simplex, statistics


def test_entropy_by_hand():
    assert simplex.entropy([0.5, 0.5]) == pytest.approx(np.log(2), rel=1e-15)
    assert simplex.entropy([1.0, 0.0, 0.0]) == 0.0
    assert simplex.entropy([1 - 2e-300, 1e-300, 1e-300]) == pytest.approx(2 * 1e-300 * 300 * np.log(10), rel=1e-3)
    np.testing.assert_allclose(simplex.entropy(np.full((2, 4), 0.25)), [np.log(4)] * 2, rtol=1e-15)


def test_log_normalize_huge_logits():
    out = simplex.log_normalize([1000.0, 0.0, -1000.0])
    assert out[0] == pytest.approx(0.0, abs=1e-300) and out[1] == pytest.approx(-1000.0) and np.isfinite(out).all()
    np.testing.assert_allclose(simplex.softmax([0.0, np.log(3.0)]), [0.25, 0.75], rtol=1e-15)


def test_tv_distance_by_hand():
    assert simplex.tv_distance([1, 0, 0], [0, 0.5, 0.5]) == 1.0
    assert simplex.tv_distance([0.5, 0.5], [0.75, 0.25]) == 0.25


def test_lattice():
    pts = simplex.lattice(4)
    assert pts.shape == (15, 3)
    np.testing.assert_allclose(pts.sum(axis=1), 1.0)
    assert len({tuple(p) for p in pts}) == 15
    assert simplex.lattice(2, K=2).tolist() == [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]


def test_loglog_slope_by_hand():
    x = np.array([1.0, 10.0, 100.0])
    slope, intercept = statistics.loglog_slope(x, 3.0 * x**-0.5)
    assert slope == pytest.approx(-0.5, abs=1e-12) and intercept == pytest.approx(np.log(3.0), abs=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: simplex.entropy([0.5, 0.6]), r"pi must sum to 1"),
        (lambda: simplex.tv_distance([1.0], [0.5, 0.5]), r"q must have 1 entries \(one per response of p\)"),
        (lambda: simplex.uniform(0), r"K must be >= 1, got 0"),
        (lambda: simplex.uniform(2.0), r"K must be an integer"),
        (lambda: simplex.log_normalize([np.inf, 0.0]), r"logits must be finite"),
        (lambda: statistics.loglog_slope([1.0, 2.0], [1.0, -1.0]), r"y must be > 0, got -1"),
        (lambda: statistics.loglog_slope([1.0], [1.0]), r"x and y must be 1-D of equal length >= 2"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
