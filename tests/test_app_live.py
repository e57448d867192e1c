"""The page's charts as PNG: drawn once per round, at the page's resolution, the same
image whether the layout is reused or laid out afresh, built under the model's lock."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from sim.app.live import LIVE_DPI, LiveChart
from sim.app.session import CHARTS, PageModel

BASELINE = str(Path(__file__).resolve().parent.parent / "scenarios" / "istanbul_2025.yaml")


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_live_chart_draws_once_per_round(name: str) -> None:
    """Without a step the same bytes come back; a step draws the new round; the image is the figure's size at LIVE_DPI."""
    model = PageModel(BASELINE, replicas="20")
    chart = model.charts[name]
    played, image = chart.png(model.negotiation)
    assert played == 0 and image.startswith(b"\x89PNG")
    assert chart.png(model.negotiation)[1] is image
    model.step()
    played, after = chart.png(model.negotiation)
    assert played == 1 and after != image
    inches = CHARTS[name](model.negotiation).get_size_inches()
    assert Image.open(io.BytesIO(after)).size == (int(inches[0] * LIVE_DPI), int(inches[1] * LIVE_DPI))


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_reused_layout_draws_the_image_of_a_fresh_layout(name: str) -> None:
    """Each round drawn after the one before (layout reused where nothing it depends on
    changed) is byte for byte that round laid out afresh; the layout is reused at least once."""
    model = PageModel(BASELINE, replicas="20")
    chart = model.charts[name]
    model.step()
    chart.png(model.negotiation)
    reused_rounds = 0
    for _ in range(5):
        before = chart._layout
        model.step()
        reused = chart.png(model.negotiation)
        reused_rounds += chart._layout is before
        fresh = LiveChart(CHARTS[name], threading.Lock()).png(model.negotiation)
        assert reused == fresh
    assert reused_rounds >= 1


def test_a_new_model_is_drawn_afresh() -> None:
    """The same round of another model is not the cached image."""
    first, second = PageModel(BASELINE, replicas="20"), PageModel(BASELINE, replicas="21")
    chart = LiveChart(CHARTS["convergence"], threading.Lock())
    _, image = chart.png(first.negotiation)
    assert chart.png(second.negotiation)[1] != image


def test_live_chart_builds_the_figure_holding_the_lock() -> None:
    """The figure is built while the lock is held (a step cannot run half-way through it), and the lock is released after."""
    model = PageModel(BASELINE, replicas="5")
    held = []

    def draw(negotiation):  # type: ignore[no-untyped-def]
        held.append(model.lock.locked())
        return CHARTS["convergence"](negotiation)

    LiveChart(draw, model.lock).png(model.negotiation)
    assert held == [True] and not model.lock.locked()
