"""What the charts share: the party palette, captions with their blanks, phrase wrapping."""

from __future__ import annotations

from sim.charts.style import CAPTIONS, PARTY_COLOURS, caption, caption_of, chart_figure, party_colour, wrap_phrases


def test_party_palette_extends_past_the_first_four() -> None:
    """The first four parties keep their colours; the next six get six more, all ten distinct."""
    colours = [party_colour(i) for i in range(10)]
    assert colours[:4] == list(PARTY_COLOURS)
    assert len(set(colours)) == 10


def test_every_caption_reads_as_a_guide_with_no_blank_left() -> None:
    """Each kind's caption starts "How to read:" and leaves no {blank} when given no context."""
    for kind in CAPTIONS:
        text = caption(kind)
        assert text.startswith("How to read:"), kind
        assert "{" not in text and "}" not in text, kind


def test_caption_drawn_is_the_caption_returned() -> None:
    """A chart figure's caption, read back, is the text it was given (wrapped lines joined)."""
    text = caption("lines", metric="the security agreement rate", level="value")
    fig, _ = chart_figure(4.0, 3.0, text)
    assert caption_of(fig) == text


def test_wrap_phrases_breaks_only_between_phrases() -> None:
    """Phrases that fit share a line; one that does not starts the next line whole."""
    assert wrap_phrases(["Title:", "convergence of offers", "(median over 500 replicas)"], 30) == (
        "Title: convergence of offers\n(median over 500 replicas)"
    )
