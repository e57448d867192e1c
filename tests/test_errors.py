"""Problems are safe to print: control and bidi characters from a file are escaped, and no
part of a message is longer than the bound, whatever the file held."""

from __future__ import annotations

from sim.errors import LONGEST_PART, InputError, Problem, printable, shorten


def test_printable_escapes_controls_and_bidi_overrides() -> None:
    """A right-to-left override, an escape sequence, a NUL and a line break are written as escapes."""
    assert printable("Ukr\u202eaine\x1b[31m\x00\n") == "Ukr\\u202eaine\\x1b[31m\\x00\\n"
    assert printable("a\u2066b\u200fc") == "a\\u2066b\\u200fc"
    assert printable("line\nbreak\t", keep="\n\t") == "line\nbreak\t"


def test_printable_keeps_printable_text() -> None:
    """Accents, other scripts and punctuation are left alone."""
    text = "Türkiye – Україна, 1,000 prisoners (50%)"
    assert printable(text) == text


def test_shorten_cuts_with_a_length_note() -> None:
    """A long value keeps its first characters, then says how long it was."""
    assert shorten("ab" * 50_000, 10) == "ababababab... (100,000 characters)"
    assert shorten("a" * 80) == "a" * 80


def test_problem_parts_are_bounded_and_printable() -> None:
    """A problem built from a hostile file prints as one bounded, printable line."""
    problem = Problem("f.yaml", 3, "parties." + "\u202e" * 10_000, "a name", "x\x1b" * 100_000)
    text = str(problem)
    assert "\n" not in text and text.isprintable()
    assert len(text) < 4 * LONGEST_PART + 200
    assert text.startswith("f.yaml:3: parties.\\u202e")
    assert str(InputError([problem])) == text
