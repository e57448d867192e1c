"""The page's charts as PNG: drawn once per round, at the page's resolution, the same
image whether the layout and background are reused or drawn afresh, the saved chart
wherever no data is drawn, built under the model's lock, one drawing at a time."""

from __future__ import annotations

import gc
import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sim.app.live import LIVE_DPI, LiveChart
from sim.app.session import CHARTS, PageModel

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE = str(SCENARIOS / "istanbul_2025.yaml")
VARIED = ["istanbul_2025", "mediated_single_text", "minsk_three_sides", "us_deadline"]
"""Two sides, a mediator's single text, three sides (whose war payoffs drift every round), a deadline's event."""


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


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


@pytest.mark.parametrize("stem", VARIED)
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_reused_layout_and_background_draw_the_image_of_a_fresh_drawing(name: str, stem: str) -> None:
    """Each round drawn after the one before (layout and background reused where nothing
    they depend on changed) is byte for byte that round drawn by a new chart; the layout is
    reused at least once, and the background too (the live axes hold still, war payoffs
    drifting or not)."""
    model = PageModel(str(SCENARIOS / f"{stem}.yaml"), replicas="20")
    chart = model.charts[name]
    model.step()
    chart.png(model.negotiation)
    reused = {"layout": 0, "background": 0}
    for _ in range(5):
        before = chart._layout, chart._background
        model.step()
        image = chart.png(model.negotiation)
        reused["layout"] += chart._layout is before[0]
        reused["background"] += chart._background is before[1]
        assert image == LiveChart(CHARTS[name], threading.Lock()).png(model.negotiation)
    assert reused["layout"] >= 1 and reused["background"] >= 1, reused


@pytest.mark.parametrize("stem", VARIED)
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_live_chart_is_the_saved_chart_wherever_no_data_is_drawn(name: str, stem: str) -> None:
    """Against the chart ``savefig`` writes at LIVE_DPI: every pixel the data (drawn over
    the background) leaves alone is the same, and the few others (grid lines and spines a
    saved chart draws over the data) are under 1% of the image."""
    model = PageModel(str(SCENARIOS / f"{stem}.yaml"), replicas="20")
    chart = model.charts[name]
    for _ in range(3):
        live = _pixels(chart.png(model.negotiation)[1])
        background = np.asarray(chart._background[1])
        saved = io.BytesIO()
        CHARTS[name](model.negotiation).savefig(saved, format="png", dpi=LIVE_DPI)
        differs = (live != _pixels(saved.getvalue())).any(axis=2)
        data = (live != background).any(axis=2)
        assert not (differs & ~data).any()
        assert differs.mean() < 0.01
        model.step()


@pytest.mark.parametrize("stem", VARIED)
def test_round_1_finds_its_layout_and_background_drawn_ahead(stem: str) -> None:
    """``prepare`` before round 1 (the page calls it once round 0 is shown) lays out the
    convergence chart round 1 draws and draws its background; round 1 then computes
    neither, and its image is byte for byte a fresh drawing's. The opening chart's own
    layout and background are kept beside them (``KEPT``)."""
    model = PageModel(str(SCENARIOS / f"{stem}.yaml"), replicas="20")
    chart = model.charts["convergence"]
    opening = chart.png(model.negotiation)[1]
    assert chart.prepare(model.negotiation) and len(chart._layouts) == len(chart._backgrounds) == 2
    kept = list(chart._layouts), list(chart._backgrounds)
    model.step()
    image = chart.png(model.negotiation)[1]
    assert chart._layout is kept[0][1] and chart._background is kept[1][1]
    assert len(chart._layouts) == len(chart._backgrounds) == 2
    assert image == LiveChart(CHARTS["convergence"], threading.Lock()).png(model.negotiation)[1]
    assert not chart.prepare(model.negotiation)  # after round 0 nothing is drawn ahead
    assert not model.charts["utility-space"].prepare(model.negotiation)  # its round 1 frame is round 0's
    fresh = PageModel(str(SCENARIOS / f"{stem}.yaml"), replicas="20")
    assert fresh.charts["convergence"].png(fresh.negotiation)[1] == opening


def test_a_chart_keeps_its_most_recently_used_layouts() -> None:
    """``_keep`` drops the least recently used beyond ``KEPT``; ``_recall`` finds by signature and moves it last."""
    from sim.app.live import KEPT, _keep, _recall

    kept: list[tuple[int, str]] = []
    for i in range(KEPT + 2):
        _keep(kept, (i, f"entry {i}"))
    assert [k for k, _ in kept] == list(range(2, KEPT + 2))
    assert _recall(kept, 2) == (2, "entry 2") and kept[-1] == (2, "entry 2")
    assert _recall(kept, 0) is None
    _keep(kept, (99, "new"))
    assert [k for k, _ in kept] == [4, 5, 2, 99]


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


def test_two_drawings_at_once_draw_one_after_the_other() -> None:
    """Two threads asking for the same round at once get the same image, drawn once."""
    model = PageModel(BASELINE, replicas="5")
    model.step()
    drawn = []

    def draw(negotiation):  # type: ignore[no-untyped-def]
        drawn.append(negotiation.steps)
        return CHARTS["utility-space"](negotiation)

    chart = LiveChart(draw, model.lock)
    images: list[bytes] = []
    threads = [threading.Thread(target=lambda: images.append(chart.png(model.negotiation)[1])) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert drawn == [1] and len(images) == 2 and images[0] is images[1]
    assert images[0] == LiveChart(CHARTS["utility-space"], threading.Lock()).png(model.negotiation)[1]


@pytest.mark.parametrize("enabled", [True, False])
def test_no_garbage_collection_while_a_chart_is_drawn(enabled: bool) -> None:
    """While the figure is built the cyclic collector is off; afterwards it is as it was before."""
    model = PageModel(BASELINE, replicas="5")
    seen = []

    def draw(negotiation):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return CHARTS["convergence"](negotiation)

    (gc.enable if enabled else gc.disable)()
    try:
        LiveChart(draw, model.lock).png(model.negotiation)
        assert seen == [False] and gc.isenabled() is enabled
    finally:
        gc.enable()


EXIT_WHILE_DRAWING = """
import sys, threading, time
from sim.app.session import PageModel
model = PageModel("istanbul_2025", replicas="500")
model.step()
model.step()
for name in list(model.charts):
    for _ in range(2):
        threading.Thread(target=lambda n=name: model.charts[n].png(model.negotiation), daemon=True).start()
time.sleep(float(sys.argv[1]))
"""


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3])
def test_the_process_exits_cleanly_while_charts_are_drawn(delay) -> None:
    """Exiting while live charts are drawn on daemon threads waits for them: without that the
    process aborted inside matplotlib's C++ code (exit 134, 2 runs in 4 at 0.2 s, seen)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", EXIT_WHILE_DRAWING, str(delay)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "terminate called" not in proc.stderr
