"""The phone edition of a figure (prefalign.phone_figure) on figures built by hand.

Each test builds a small figure with a known layout (a row of panels sharing the y-axis, a shared
colourbar, a figure legend, an annotated grid, a long label) and checks the geometry of the copy
against what the layout must be: panels in one column, in the asked order, one width, tick labels
back, colourbar horizontal below, legend below, labels wrapped (mathtext intact), overlapping cell
labels hidden, and the original untouched.
"""

from __future__ import annotations

import base64
import hashlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from prefalign import phone_figure, plotting
from prefalign.phone_figure import PHONE_WIDTH_PX, for_phone


def _row_of_three():
    """Three panels in a row sharing y, one colourbar for all, one figure legend."""
    fig, axes = plotting.subplots(1, 3, aspect=0.35, sharey=True)
    grid = np.arange(12.0).reshape(3, 4)
    for i, ax in enumerate(axes):
        mesh = ax.pcolormesh(grid + i, vmin=0, vmax=14)
        ax.plot([0, 4], [0, 3], label="diagonal" if i == 0 else None)
        ax.set_title(f"panel {i + 1}")
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    fig.colorbar(mesh, ax=list(axes), label="value")
    fig.legend(loc="lower center", ncol=3)
    return fig, axes


def _panels(fig):
    """The panels of a phone edition, top to bottom as drawn."""
    fig.draw_without_rendering()
    return sorted((ax for ax in fig.axes if not hasattr(ax, "_colorbar")), key=lambda ax: -ax.get_position().y0)


def test_row_restacks_into_one_column_of_the_phone_width():
    fig, _ = _row_of_three()
    phone = for_phone(fig)
    phone.draw_without_rendering()
    assert phone.get_size_inches()[0] * plotting.CSS_PX_PER_INCH == pytest.approx(PHONE_WIDTH_PX)
    panels = _panels(phone)
    assert [ax.get_title() for ax in panels] == ["panel 1", "panel 2", "panel 3"]
    boxes = [ax.get_position() for ax in panels]  # top to bottom: in reading order
    assert all(b.x0 == pytest.approx(boxes[0].x0, abs=0.02) for b in boxes)  # one column
    assert all(b.y0 >= a.y1 - 1e-6 for a, b in zip(boxes[1:], boxes))  # no overlap
    for ax in panels:  # sharey had hidden the tick labels of panels 2 and 3; each has a y label now
        assert any(t.get_visible() and t.get_text() for t in ax.get_yticklabels())
        assert ax.get_ylabel() == "y"
    bars = [ax for ax in phone.axes if hasattr(ax, "_colorbar")]
    assert len(bars) == 1 and bars[0]._colorbar.orientation == "horizontal"
    assert bars[0].get_position().y1 < boxes[2].y0  # below the panels
    assert len(phone.legends) == 1 and [t.get_text() for t in phone.legends[0].get_texts()] == ["diagonal"]
    plt.close(fig)


def test_the_original_figure_is_unchanged():
    fig, axes = _row_of_three()
    fig.draw_without_rendering()
    before = (fig.get_size_inches().tolist(), [ax.get_position().bounds for ax in fig.axes], len(fig.legends))
    for_phone(fig)
    fig.draw_without_rendering()
    after = (fig.get_size_inches().tolist(), [ax.get_position().bounds for ax in fig.axes], len(fig.legends))
    assert after == before
    assert not any(t.get_visible() and t.get_text() for t in axes[1].get_yticklabels())
    plt.close(fig)


def test_columns_order_reads_down_each_column():
    fig, axes = plotting.subplots(2, 2, sharex=True)
    for (r, c), ax in np.ndenumerate(axes):
        ax.set_title(f"r{r}c{c}")
    rows = [ax.get_title() for ax in _panels(for_phone(fig, order="rows"))]
    columns = [ax.get_title() for ax in _panels(for_phone(fig, order="columns"))]
    assert rows == ["r0c0", "r0c1", "r1c0", "r1c1"]
    assert columns == ["r0c0", "r1c0", "r0c1", "r1c1"]
    plt.close(fig)


def test_panel_aspect_is_kept_within_bounds():
    low, high = phone_figure.PANEL_ASPECT
    fig, axes = plotting.subplots(1, 2, aspect=0.2)  # very wide, flat panels
    phone = for_phone(fig)
    phone.draw_without_rendering()
    for ax in _panels(phone):
        box = ax.get_position()
        w, h = phone.get_size_inches()
        assert low * 0.7 <= box.height * h / (box.width * w) <= high * 1.05
    plt.close(fig)


def test_long_labels_wrap_outside_mathtext():
    fig, ax = plotting.subplots(aspect=0.4)
    math = r"$\pi_1 + \pi_2 + \pi_3 + \pi_4 + \pi_5 + \pi_6 + \pi_7 + \pi_8$"  # longer source than a line
    long = f"mass that the chosen sampler puts on the top eight responses, {math}, for each pair"
    ax.set_xlabel(long)
    ax.set_ylabel("entropy of the fixed point after many rounds (nats)")
    phone = for_phone(fig)
    label = phone.axes[0].get_xlabel()
    assert "\n" in label and label.replace("\n", " ") == long
    assert any(math in line for line in label.split("\n"))  # one line holds the whole formula
    assert "\n" in phone.axes[0].get_ylabel()
    phone_figure._png(phone)  # mathtext of every line parses
    plt.close(fig)


def _with_legend(entries: int):
    fig, ax = plotting.subplots(aspect=0.5)
    for i in range(entries):
        ax.plot([0, 1], [i, i + 1], label=f"s{i}")
    ax.legend()
    return fig


def test_crowded_legend_moves_below_the_panel_and_the_figure_grows():
    few, crowded = for_phone(_with_legend(3)), for_phone(_with_legend(phone_figure.LEGEND_ENTRIES + 2))
    assert few.axes[0].get_legend() is not None and not few.legends  # a short legend stays
    assert crowded.axes[0].get_legend() is None
    assert len(crowded.legends) == 1 and len(crowded.legends[0].get_texts()) == phone_figure.LEGEND_ENTRIES + 2
    assert crowded.get_size_inches()[1] > few.get_size_inches()[1]
    plt.close("all")


def test_overlapping_cell_labels_are_hidden_but_readable_ones_kept():
    crowded, ax = plotting.subplots(aspect=0.6)
    for i in range(12):
        for j in range(12):
            ax.text(j, i, "0.50", ha="center", va="center")
    ax.set(xlim=(-0.5, 11.5), ylim=(-0.5, 11.5))
    assert not any(t.get_visible() for t in for_phone(crowded).axes[0].texts)
    assert all(t.get_visible() for t in crowded.axes[0].texts)
    sparse, ax = plotting.subplots(aspect=0.6)
    for i in range(3):
        for j in range(4):
            ax.text(j, i, "1", ha="center", va="center")
    ax.set(xlim=(-0.5, 3.5), ylim=(-0.5, 2.5))
    assert all(t.get_visible() for t in for_phone(sparse).axes[0].texts)
    plt.close("all")


def test_bundle_carries_both_editions_deterministically():
    fig, _ = _row_of_three()
    data, meta = phone_figure.bundle(fig)._repr_mimebundle_()
    again, meta_again = phone_figure.bundle(fig)._repr_mimebundle_()
    assert data["image/png"] == again["image/png"]
    phone = meta[phone_figure.METADATA_KEY]
    assert phone["png"] == meta_again[phone_figure.METADATA_KEY]["png"]
    png = base64.b64decode(phone["png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width_px = int.from_bytes(png[16:20], "big")  # the IHDR width: twice the display width
    assert abs(width_px - 2 * phone["width"]) <= 1
    assert abs(phone["width"] - PHONE_WIDTH_PX) <= 20  # cropped to its content
    assert meta["image/png"]["width"] > phone["width"]
    assert hashlib.sha256(png).hexdigest() != hashlib.sha256(base64.b64decode(data["image/png"])).hexdigest()
    plt.close(fig)


def test_bad_order_is_refused():
    fig, _ = plotting.subplots()
    with pytest.raises(ValueError, match="order must be 'rows' or 'columns'"):
        for_phone(fig, order="diagonal")
    plt.close(fig)
