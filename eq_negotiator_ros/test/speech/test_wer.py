"""speech/wer.py: word error rate on normalised text."""

from __future__ import annotations

import pytest

from eq_negotiator_ros.speech.wer import normalise_text, number_to_words, word_error_rate, word_errors


@pytest.mark.parametrize(
    "number, words",
    [
        (0, "zero"),
        (7, "seven"),
        (15, "fifteen"),
        (90, "ninety"),
        (95, "ninety five"),
        (100, "one hundred"),
        (1500, "one thousand five hundred"),
        (2_000_017, "two million seventeen"),
    ],
)
def test_number_to_words(number: int, words: str) -> None:
    assert number_to_words(number) == words


def test_normalisation_makes_formatting_equal() -> None:
    assert normalise_text("Can I pay in 90 days?") == normalise_text("can I pay in ninety days")
    assert normalise_text("$1,500 up front.") == "one thousand five hundred dollars up front"
    assert normalise_text("It's 2.5% -- OK!") == "it's two point five percent ok"
    assert normalise_text("the 30th of June") == "the thirtieth of june"
    assert normalise_text("the 1st and 2nd") == "the first and second"
    assert normalise_text("ninety-five days") == "ninety five days"
    assert normalise_text("") == ""
    assert normalise_text(None) == ""  # type: ignore[arg-type]


def test_identical_and_formatting_only_differences_score_zero() -> None:
    assert word_error_rate("I lost my job.", "i lost my job") == 0.0
    assert word_error_rate("Give me 60 days.", "Give me sixty days") == 0.0


def test_substitution_deletion_insertion_counts() -> None:
    errors = word_errors("I can pay next month", "I can't pay month now")
    assert (errors.substitutions, errors.deletions, errors.insertions) == (1, 1, 1)
    assert errors.reference_words == 5
    assert errors.rate == pytest.approx(3 / 5)


def test_empty_texts() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "hello") == 1.0
    assert word_error_rate("hello there", "") == 1.0


def test_unicode_and_emoji_do_not_break_it() -> None:
    assert word_error_rate("café 🙂 ok", "café ok") == 0.0
