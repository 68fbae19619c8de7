"""Word error rate for checking speech recognition (tests, `bench`, `doctor`).

Both texts are normalised the same way before they are compared, so that formatting is not
counted as an error: lowercase, punctuation removed, and numbers written out as words ("90" ->
"ninety", "$1,500" -> "one thousand five hundred dollars", "2.5" -> "two point five"), since
Whisper writes digits where a sentence said the words, and the other way round.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_CURRENCY_WORDS = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
_NUMBER = re.compile(r"([$€£¥]?)(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th)?(%?)", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s']+")


def number_to_words(number: int) -> str:
    """0 <= number < 10**15 as English words ("one thousand two hundred five")."""
    if number < 0:
        return "minus " + number_to_words(-number)
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if number >= scale:
            high, rest = divmod(number, scale)
            return f"{number_to_words(high)} {name}" + (f" {number_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spell_number(match: re.Match[str]) -> str:
    currency, digits, ordinal, percent = match.groups()
    digits = digits.rstrip(",")
    whole, _, fraction = digits.replace(",", "").partition(".")
    if len(whole) > 15:
        return f" {' '.join(_ONES[int(d)] for d in whole)} "  # an account number: digit by digit
    words = number_to_words(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    if ordinal:
        words = _ordinal(words)
    if percent:
        words += " percent"
    if currency:
        words += f" {_CURRENCY_WORDS[currency]}"
    return f" {words} "


def normalise_text(text: str) -> str:
    """Lowercase words separated by single spaces, numbers spelled out, no punctuation."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = _NUMBER.sub(_spell_number, text)
    text = text.replace("-", " ")
    text = _NOT_WORD.sub(" ", text)
    # Quotes used as punctuation, not as apostrophes inside a word.
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w)


@dataclass(frozen=True)
class WordErrors:
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def rate(self) -> float:
        errors = self.substitutions + self.deletions + self.insertions
        if self.reference_words == 0:
            return 0.0 if errors == 0 else 1.0
        return errors / self.reference_words


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """Minimal edit alignment (Levenshtein over words) after normalising both texts."""
    ref = normalise_text(reference).split()
    hyp = normalise_text(hypothesis).split()
    # Each cell holds (cost, substitutions, deletions, insertions) of the best path to it.
    previous = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i in range(1, len(ref) + 1):
        current = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            if ref[i - 1] == hyp[j - 1]:
                best = previous[j - 1]
            else:
                sub, dele, ins = previous[j - 1], previous[j], current[j - 1]
                best = min(
                    (sub[0] + 1, sub[1] + 1, sub[2], sub[3]),
                    (dele[0] + 1, dele[1], dele[2] + 1, dele[3]),
                    (ins[0] + 1, ins[1], ins[2], ins[3] + 1),
                )
            current.append(best)
        previous = current
    _, substitutions, deletions, insertions = previous[-1]
    return WordErrors(substitutions, deletions, insertions, len(ref))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words; 0 for two empty texts, 1 for
    words against an empty reference."""
    return word_errors(reference, hypothesis).rate
