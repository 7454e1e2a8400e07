"""prefalign.interactive: the data of the book's interactive figures."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from matplotlib.colors import Normalize
from matplotlib.pyplot import get_cmap

from prefalign import interactive


def _data(fig) -> dict:
    html = fig._repr_html_()
    return json.loads(re.search(r'<script type="application/json">(.*)</script>', html).group(1))


def test_simplex_player_places_rounds_on_the_ternary_diagram():
    pi = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]])
    data = _data(interactive.simplex_player({"a": pi, "b": pi[::-1]}))
    assert data["rounds"] == 3
    assert data["runs"][0]["xy"] == [[0.0, 0.0], [1.0, 0.0], [0.5, 0.866], [0.5, 0.2887]]  # e_3 at (½, √3/2)
    assert data["runs"][1]["title"] == "b" and data["runs"][1]["color"].startswith("#")


def test_simplex_player_rejects_bad_runs():
    with pytest.raises(ValueError, match="same number of rounds"):
        interactive.simplex_player({"a": np.full((3, 3), 1 / 3), "b": np.full((4, 3), 1 / 3)})
    with pytest.raises(ValueError, match=r"shape \(T, 3\)"):
        interactive.simplex_player({"a": np.full((3, 4), 0.25)})
    with pytest.raises(ValueError, match="at least one"):
        interactive.simplex_player({})


def test_phase_explorer_keeps_the_start_and_the_tail_and_colours_cells():
    traj = np.tile(np.array([1.0, 0.0, 0.0]), (2, 3, 10, 1))
    traj[..., 0, :] = [0.0, 1.0, 0.0]  # the start differs from every later round
    values = np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]])
    fig = interactive.phase_explorer([0.0, 0.5, 1.0], [1.0, 2.0], values, traj, cmap=get_cmap("gray"),
                                     norm=Normalize(0.0, 1.0), x_label="α", y_label="βλ", value_label="v", tail=4)
    data = _data(fig)
    assert len(data["trajectories"][1][2]) == 5 and data["trajectories"][1][2][0] == [1.0, 0.0]
    assert data["colors"][0] == ["#000000", "#808080", "#ffffff"]
    with pytest.raises(ValueError, match="more than tail"):
        interactive.phase_explorer([0.0, 0.5, 1.0], [1.0, 2.0], values, traj, cmap=get_cmap("gray"),
                                   norm=Normalize(0.0, 1.0), x_label="α", y_label="βλ", value_label="v", tail=10)
