"""The convergence and utility-space charts: legends outside the axes, captions, events
marked where they fall due, agreement notes, single rounds, the single text's words, and
three parties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.charts.negotiation import EventMark, convergence_figure, model_convergence
from sim.charts.style import caption, caption_of
from sim.charts.utility_space import utility_space_figure
from sim.engine.compile import compile_batch
from sim.engine.model import NegotiationModel
from sim.inputs.scenario import load_scenario, with_overrides

GROUPS = ("humanitarian", "security")


def _trace(parties: tuple[str, ...], rounds: int, open_by_group: dict[str, list[int]]) -> pd.DataFrame:
    """A ``trace_quantiles``-shaped frame: straight lines per series, ``open`` per group and round."""
    rows = []
    for group, open_ in open_by_group.items():
        for t in range(1, rounds + 1):
            for i, party in enumerate(parties):
                for series, value in (("own", 1 - 0.05 * t), ("answered", 0.1 * i + 0.05 * t), ("war", 0.3)):
                    rows.append((group, t, party, series, open_[t - 1], value, value - 0.05, value, value + 0.05))
    return pd.DataFrame(rows, columns=["group", "round", "party", "series", "open", "mean", "q25", "median", "q75"])


def _agreement(rounds_by_group: dict[str, list[int]], replicas: int) -> pd.DataFrame:
    """A ``replica_table``-shaped frame: the listed replicas agreed in those rounds, the rest never."""
    rows = []
    for group, rounds in rounds_by_group.items():
        for r in range(replicas):
            agreed = r < len(rounds)
            rows.append((group, r, agreed, rounds[r] if agreed else -1))
    return pd.DataFrame(rows, columns=["group", "replica", "agreed", "round"])


def _open(replicas: int, rounds: int, agreed_rounds: list[int]) -> list[int]:
    """Replicas still negotiating in each round 1..rounds (those not agreed in an earlier round)."""
    return [replicas - sum(1 for a in agreed_rounds if a < t) for t in range(1, rounds + 1)]


def _figure(agreed: dict[str, list[int]], *, replicas: int = 100, rounds: int = 12, parties=("ukr", "rus"), **kw) -> Figure:
    trace = _trace(parties, rounds, {g: _open(replicas, rounds, agreed[g]) for g in agreed})
    names = {p: p.title() for p in parties}
    return convergence_figure(trace, _agreement(agreed, replicas), title="Test", party_names=names, replicas=replicas, **kw)


def _drawn(fig: Figure) -> Figure:
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def _legends(fig: Figure) -> list:
    return [leg for sub in fig.subfigs for leg in sub.legends] + [ax.get_legend() for ax in fig.axes if ax.get_legend()]


def _disjoint(a, b) -> bool:
    return a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0


def _panel(fig: Figure, group: str):
    return next(ax for ax in fig.axes if ax.get_title() == f"agenda group: {group}")


def _notes(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_convergence_legend_lies_outside_every_axes() -> None:
    """The convergence legend, drawn on an Agg canvas, overlaps no axes (panels or their right axes)."""
    fig = _drawn(_figure({"humanitarian": [1] * 100, "security": [11] * 30}))
    legends = _legends(fig)
    assert legends
    for legend in legends:
        box = legend.get_window_extent()
        assert all(_disjoint(box, ax.get_window_extent()) for ax in fig.axes)


def test_caption_is_drawn_below_everything_and_given_as_text() -> None:
    """The caption text is the reading guide of its kind and sits below every axes and legend."""
    fig = _drawn(_figure({"humanitarian": [1] * 100, "security": [11] * 30}))
    assert caption_of(fig) == " ".join(caption("convergence", answered="offered").split())
    assert caption_of(fig).startswith("How to read:")
    text = next(t for sub in fig.subfigs for t in sub.texts if t.get_gid() == "caption")
    top = text.get_window_extent().y1
    assert all(top <= ax.get_window_extent().y0 for ax in fig.axes)
    assert all(top <= leg.get_window_extent().y0 for leg in _legends(fig))


def test_event_falls_due_between_its_round_and_the_next_with_its_name() -> None:
    """An event with from_round 4 is a vertical line at x = 4.5 named by the event, in its group's panel only."""
    deadline = EventMark("US deadline", "security", 4, 4)
    fig = _figure({"humanitarian": [1] * 100, "security": [11] * 30}, events=[deadline])
    lines = [line for line in _panel(fig, "security").lines if line.get_label() == "US deadline"]
    assert len(lines) == 1
    assert list(lines[0].get_xdata()) == [4.5, 4.5]
    assert not [line for line in _panel(fig, "humanitarian").lines if line.get_label() == "US deadline"]
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert "US deadline: falls due after round 4, in security" in labels


def test_bundled_deadline_is_marked_where_the_scenario_file_puts_it() -> None:
    """us_deadline's events, read from the YAML file, are drawn at from_round + 0.5 in their group's panel."""
    loaded = load_scenario("us_deadline")
    with open(loaded.path, encoding="utf-8") as handle:
        events = yaml.safe_load(handle)["events"]
    model = NegotiationModel(compile_batch(with_overrides(loaded, replicas=20)))
    model.run_model()
    fig = model_convergence(model)
    for event in events.values() if isinstance(events, dict) else events:
        ax = _panel(fig, event["unless_agreed"])
        xs = [list(line.get_xdata()) for line in ax.lines if line.get_label() == event["name"]]
        assert xs == [[event["from_round"] + 0.5] * 2], event["name"]


def test_event_past_the_axis_is_named_not_drawn() -> None:
    """An event after the deadline has no line but a legend entry saying it is only anticipated."""
    fig = _figure({"humanitarian": [1] * 100, "security": [11] * 30}, events=[EventMark("Late", "security", 20, 20)])
    assert not [line for line in _panel(fig, "security").lines if line.get_label() == "Late"]
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert any(label.startswith("Late:") and "past the deadline" in label for label in labels)


def _median_markers(ax) -> list[Line2D]:
    return [line for line in ax.lines if line.get_label() == "median"]


def test_no_median_round_when_none_or_too_few_agreed() -> None:
    """0 of 200 agreed, or 1 of 200 (under 5%): no median marker, and the note says so with the count."""
    fig = _figure({"humanitarian": [1] * 200, "security": []}, replicas=200)
    ax = _panel(fig, "security")
    assert not _median_markers(ax)
    assert _notes(ax) == ["no replica of 200 agreed"]
    fig = _figure({"humanitarian": [1] * 200, "security": [12]}, replicas=200)
    ax = _panel(fig, "security")
    assert not _median_markers(ax)
    assert _notes(ax) == ["1 of 200 replicas agreed (0.5%), in round 12: too few for a median"]


def test_median_round_is_marked_at_the_median() -> None:
    """30 of 100 agreed in rounds 9 (10), 10 (10) and 12 (10): the median, round 10, is marked on the top edge."""
    fig = _figure({"humanitarian": [1] * 100, "security": [9] * 10 + [10] * 10 + [12] * 10})
    ax = _panel(fig, "security")
    (marker,) = _median_markers(ax)
    assert list(marker.get_xdata()) == [10.0]
    assert _notes(ax) == ["30% of 100 replicas agreed, median in round 10, the last in round 12"]


def test_single_round_shows_as_markers_and_the_axis_ends_after_it() -> None:
    """Every replica agreed in round 1: each series is one marked point and the panel ends at round 2."""
    fig = _figure({"humanitarian": [1] * 100, "security": [11] * 30})
    ax = _panel(fig, "humanitarian")
    series = [line for line in ax.lines if line.get_label().startswith("_")]
    assert series and all(len(line.get_xdata()) == 1 and line.get_marker() == "o" for line in series)
    assert ax.get_xlim() == (0.5, 2.5)
    assert "shown to round 2 of 12" in ax.get_xlabel()
    assert _panel(fig, "security").get_xlim() == (0.5, 12.5)


def test_single_text_legend_names_the_mediators_text() -> None:
    """Under a single text the legend speaks of the mediator's text and the party's own demand, and the caption of the zig-zag."""
    fig = _figure({"humanitarian": [1] * 100, "security": [11] * 30}, protocol="single_text")
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert "utility of the mediator's text" in labels
    assert any("own demand" in label for label in labels)
    assert not any("other side's offer" in label for label in labels)
    assert "zig-zag" in caption_of(fig)


def test_three_parties_draw_with_three_colours_and_names() -> None:
    """A synthetic trace of three parties draws: one colour per party, each named in the legend."""
    fig = _figure({"humanitarian": [1] * 50, "security": [7] * 10}, replicas=50, rounds=8, parties=("a", "b", "c"))
    ax = _panel(fig, "security")
    colours = {line.get_color() for line in ax.lines if line.get_label().startswith("_")}
    assert len(colours) == 3
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert {"A", "B", "C"} <= set(labels)
    assert "utility of the offer it answers" in labels


def _space(**kw) -> Figure:
    """A humanitarian-like utility space: candidates on the diagonal, every solution and the agreement at (1, 1)."""
    u = np.stack([np.linspace(0, 1, 11), np.linspace(0, 1, 11)], axis=1)
    security = np.array([[1.0, -0.5], [0.5, 0.2], [-0.2, 0.9], [-0.6, 1.0]])
    solutions = [dict.fromkeys(("nash", "kalai_smorodinsky", "egalitarian", "utilitarian"), 10), dict.fromkeys(("nash",))]
    paths = [np.array([10, -1, -1, -1]), np.array([0, 3, 1, 2])]
    return utility_space_figure(
        [u, security],
        [np.zeros(2), np.array([0.3, 0.5])],
        solutions,
        paths,
        np.array([0, 1, 0, 1]),
        [0, -1],
        title="Test",
        group_names=list(GROUPS),
        party_names=("Ukraine", "Russia"),
        **kw,
    )


def test_coincident_points_are_named_together() -> None:
    """Four solutions, the agreement and the first offer on one point are named in one note."""
    fig = _drawn(_space())
    ax = _panel(fig, "humanitarian")
    notes = [" ".join(t.split()) for t in _notes(ax)]
    assert any(
        n.startswith("Pareto frontier = Nash = KS = egalitarian = utilitarian = agreement = Ukraine's first offer") for n in notes
    )


def test_utility_space_legends_and_notes_stay_in_view() -> None:
    """Each panel's legend lies outside every axes; every point note lies inside its axes (nothing clipped)."""
    fig = _drawn(_space())
    for legend in _legends(fig):
        assert all(_disjoint(legend.get_window_extent(), ax.get_window_extent()) for ax in fig.axes)
    for ax in fig.axes:
        box = ax.get_window_extent()
        for text in ax.texts:
            note = text.get_window_extent()
            assert box.x0 <= note.x0 and note.x1 <= box.x1 and box.y0 <= note.y0 and note.y1 <= box.y1, text.get_text()
    assert caption_of(fig) == " ".join(caption("utility_space").split())


def test_utility_space_of_three_belligerents_shows_the_first_pair() -> None:
    """With three belligerents' utilities the chart draws the first two and says so in its title."""
    u3 = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.6, 0.6, 0.2]])
    fig = utility_space_figure(
        [u3],
        [np.zeros(3)],
        [{"nash": 2}],
        [np.array([0, 1, 2])],
        np.array([0, 1, 2]),
        [2],
        title="Three",
        group_names=["all"],
        party_names=("A", "B", "C"),
    )
    assert "the first two of 3 belligerents" in fig.get_suptitle()


def test_event_while_stragglers_negotiate_widens_the_axis_and_an_averted_one_says_so() -> None:
    """97 of 100 agree in round 2 and 3 in round 8: sanctions after round 6 still show (axis to round 7);
    when all 100 agreed by round 3 the same sanctions were averted: no line, a legend entry saying so."""
    sanctions = EventMark("Sanctions", "security", 6, 6)
    fig = _figure({"humanitarian": [1] * 100, "security": [2] * 97 + [8] * 3}, events=[sanctions])
    ax = _panel(fig, "security")
    assert ax.get_xlim() == (0.5, 7.5)
    assert [list(line.get_xdata()) for line in ax.lines if line.get_label() == "Sanctions"] == [[6.5, 6.5]]
    fig = _figure({"humanitarian": [1] * 100, "security": [2] * 97 + [3] * 3}, events=[sanctions])
    ax = _panel(fig, "security")
    assert ax.get_xlim() == (0.5, 3.5)
    assert not [line for line in ax.lines if line.get_label() == "Sanctions"]
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert "Sanctions: falls due after round 6, in security (averted: every replica had agreed by then)" in labels


def test_a_certain_threat_is_said_to_be_carried_out_everywhere() -> None:
    """sanctions_credible's sanctions have credibility 1 in the file: the legend says carried out in 100% of replicas."""
    model = NegotiationModel(compile_batch(with_overrides(load_scenario("sanctions_credible"), replicas=10)))
    model.run_model()
    labels = [t.get_text() for leg in _legends(model_convergence(model)) for t in leg.get_texts()]
    assert any(label.startswith("Energy and bank sanctions") and "carried out in 100% of replicas" in label for label in labels)


def test_a_phased_group_says_how_often_it_never_opened() -> None:
    """A replica table with `opened`: 30 of 100 never opened the security group, and its note says 30%; none without it."""
    agreed = {"humanitarian": [1] * 100, "security": [9] * 20}
    trace = _trace(("ukr", "rus"), 12, {g: _open(100, 12, agreed[g]) for g in agreed})
    table = _agreement(agreed, 100)
    table["opened"] = ~((table["group"] == "security") & (table["replica"] >= 70))
    fig = convergence_figure(trace, table, title="Test", party_names={"ukr": "Ukr", "rus": "Rus"}, replicas=100)
    [note] = _notes(_panel(fig, "security"))
    assert note.endswith("; never opened in 30% (waits for an earlier group)")
    assert "never opened" not in _notes(_panel(fig, "humanitarian"))[0]
    assert "never opened" not in _notes(_panel(_figure(agreed), "security"))[0]


def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]


def test_live_convergence_runs_every_panel_to_the_deadline_and_names_the_median_from_the_start() -> None:
    """Live, a group every replica agreed in round 1 still runs to round 12, and with no agreement yet the
    legend already names the median agreement round (marked nowhere)."""
    fig = _figure({"humanitarian": [1] * 100, "security": []}, live=True)
    ax = _panel(fig, "humanitarian")
    assert ax.get_xlim() == (0.5, 12.5) and ax.get_xlabel() == "round of talks"
    assert _median_markers(ax)  # 100% agreed: marked
    none = _figure({"humanitarian": [], "security": []}, live=True)
    assert not any(_median_markers(a) for a in none.axes)
    assert "median agreement round (top edge)" in _legend_labels(none)
    assert "median agreement round (top edge)" not in _legend_labels(_figure({"humanitarian": [], "security": []}))


def test_live_utility_space_names_every_proposer_and_the_agreement_before_any() -> None:
    """Live, each legend names both proposers' offers and the agreement before they are drawn (a panel where
    only Ukraine offered, one with no offer and no agreement yet); an agreement's round is written beside it."""
    reserved = {"Ukraine's offers, by round", "Russia's offers, by round", "agreement (its round beside it)"}
    partway = _drawn(_space(live=True))
    u = np.stack([np.linspace(0, 1, 11), np.linspace(0, 1, 11)], axis=1)
    opening = utility_space_figure(
        [u],
        [np.zeros(2)],
        [dict.fromkeys(("nash",))],
        [np.full(4, -1)],
        np.array([0, 1, 0, 1]),
        [-1],
        title="Test",
        group_names=["humanitarian"],
        party_names=("Ukraine", "Russia"),
        live=True,
    )
    for ax in [*partway.axes, *opening.axes]:
        assert reserved <= {t.get_text() for t in ax.get_legend().get_texts()}
    notes = [" ".join(t.split()) for t in _notes(_panel(partway, "humanitarian"))]
    assert any("utilitarian = agreement in round 1 = Ukraine's first offer" in n for n in notes)
    assert "agreed in round 1" in _legend_labels(_space())  # not live: the round is in the legend


def test_live_frames_of_the_baseline_stay_the_same_over_its_first_rounds() -> None:
    """The baseline at 50 replicas, rounds 1 to 4: the live convergence chart keeps its ticks, axis labels and
    legend, and the live utility space its legends, from round to round."""
    from sim.charts.utility_space import model_utility_space

    model = NegotiationModel(compile_batch(with_overrides(load_scenario("istanbul_2025"), replicas=50)))
    frames = []
    for round_ in range(1, 5):
        model.step()
        convergence = model_convergence(model, live=True)
        space = model_utility_space(model, round_=round_ - 1, view="live", live=True)
        frames.append((
            [(tuple(ax.get_xticks()), ax.get_xlabel()) for ax in convergence.axes],
            _legend_labels(convergence),
            _legend_labels(space),
        ))
    assert all(frame == frames[0] for frame in frames)


SCENARIO_FILES = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_live_axes_hold_still_from_round_0_and_hold_all_data(path: Path) -> None:
    """Every bundled scenario at 30 replicas, played to its end: each panel of the live
    convergence chart and of the live utility space has the same axis limits in every round
    as before round 1 (the frame ``live_frame`` and ``WarPayoffs.extremes`` know ahead), and
    every line and band drawn lies inside them."""
    from sim.charts.utility_space import model_utility_space

    model = NegotiationModel(compile_batch(with_overrides(load_scenario(path), replicas=30)))

    def limits() -> list[tuple[float, ...]]:
        convergence = model_convergence(model, live=True)
        space = model_utility_space(model, round_=max(model.steps - 1, 0), view="live", live=True)
        out = []
        for ax in [*convergence.axes[: len(model.batch.groups)], *space.axes]:
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            if ax.has_data():
                (dx0, dx1), (dy0, dy1) = ax.dataLim.intervalx, ax.dataLim.intervaly
                if np.isfinite([dx0, dx1, dy0, dy1]).all():
                    assert y0 <= dy0 and dy1 <= y1, (ax.get_title(), (y0, y1), (dy0, dy1))
            out.append((x0, x1, y0, y1))
        return out

    before = limits()
    while model.running:
        model.step()
        assert limits() == before, model.steps


def test_war_extremes_are_the_least_and_greatest_war_payoff_of_any_round() -> None:
    """``WarPayoffs.extremes`` against each round's payoffs taken one by one (with and
    without a truce's full relief where the scenario has truces)."""
    from sim.core.dynamics import WarPayoffs

    for stem in ("minsk_2015", "pretoria_2022", "israel_hezbollah_2024"):
        batch = compile_batch(with_overrides(load_scenario(stem), replicas=40))
        wars = WarPayoffs(batch)
        reliefs = [None] + ([np.zeros(40), np.ones(40)] if batch.truces else [])
        every = [wars(t, relief) for t in range(batch.rounds) for relief in reliefs]
        for g, (low, high) in enumerate(wars.extremes()):
            stack = np.stack([payoffs[g] for payoffs in every])
            assert np.array_equal(low, stack.min(axis=0)) and np.array_equal(high, stack.max(axis=0))
