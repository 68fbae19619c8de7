"""The sampling bans of the persona reply: fact words the person did not say (llm/constraints.py)."""

from __future__ import annotations

import numpy as np

from eq_negotiator_ros.llm.constraints import (
    SamplingBans,
    ban_processor,
    fact_bans,
    forbidden_now,
    word_forms,
)


class WordTokenizer:
    """Whole words of a small vocabulary are one token (after a space, capitalised or not); any
    other word is "Grand"-style pieces: its first three letters, then the rest."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def _id(self, piece: str) -> int:
        return self.vocab.setdefault(piece, len(self.vocab) + 10)

    def tokenize(self, text: bytes, add_bos: bool = True) -> list[int]:
        decoded = text.decode("utf-8")
        word = decoded.strip()
        prefix = decoded[: len(decoded) - len(decoded.lstrip())]
        if word.lower() in {"wife", "hospital", "car", "dog"}:
            return [self._id(prefix + word)]
        return [self._id(prefix + word[:3]), self._id(word[3:])]


def test_forbidden_now_ends_a_banned_sequence_and_leaves_its_first_piece_free() -> None:
    bans = SamplingBans(frozenset({1, 2}), ((7, 8), (7, 9, 4)))
    assert forbidden_now(bans, [3, 5]) == [1, 2]
    assert forbidden_now(bans, [3, 7]) == [1, 2, 8]
    assert forbidden_now(bans, [7, 9]) == [1, 2, 4]
    assert forbidden_now(SamplingBans(), [7]) == []
    assert not SamplingBans() and SamplingBans(frozenset({1}))


def test_word_forms() -> None:
    assert word_forms("wife") == (" wife", " Wife", "Wife")


def test_fact_words_the_person_did_not_say_are_banned_and_those_they_said_are_not() -> None:
    tokenizer = WordTokenizer()
    bans = fact_bans(
        tokenizer, ["My wife is in hospital."], words=["wife", "hospital", "car", "grandparents"]
    )
    car = {tokenizer.tokenize(form.encode())[0] for form in word_forms("car")}
    assert bans.tokens == car  # wife and hospital were said
    grand = [tuple(tokenizer.tokenize(form.encode())) for form in word_forms("grandparents")]
    assert set(bans.sequences) == set(grand) and all(len(s) == 2 for s in grand)
    # the same rule as the grounding check: a word family counts as said
    assert not fact_bans(tokenizer, ["I'm a pensioner."], words=["pension"])


def test_fact_bans_cover_the_whole_lexicon_and_need_a_tokenizer() -> None:
    tokenizer = WordTokenizer()
    heard_nothing = fact_bans(tokenizer, ["Hello."])
    heard_wife = fact_bans(tokenizer, ["My wife left."])
    wife = tokenizer.tokenize(b" wife")[0]
    assert wife in heard_nothing.tokens and wife not in heard_wife.tokens
    assert fact_bans(object(), ["Hello."]) == SamplingBans()


def test_ban_processor_forbids_only_what_is_banned_now() -> None:
    bans = SamplingBans(frozenset({1}), ((7, 8),))
    process = ban_processor(bans)
    scores = np.zeros(12, dtype=np.single)
    after_seven = process(np.asarray([3, 7]), scores)
    assert np.isneginf(after_seven[[1, 8]]).all() and np.isfinite(np.delete(after_seven, [1, 8])).all()
    assert np.isneginf(process(np.asarray([3, 4]), scores)).sum() == 1
    assert np.isfinite(scores).all()  # the caller's array is not changed


def test_the_word_forms_are_tokenized_once_per_model() -> None:
    class Counting(WordTokenizer):
        calls = 0

        def tokenize(self, text: bytes, add_bos: bool = True) -> list[int]:
            Counting.calls += 1
            return super().tokenize(text, add_bos)

    tokenizer = Counting()
    first = fact_bans(tokenizer, ["Hello."])
    calls = Counting.calls
    assert fact_bans(tokenizer, ["Hello."]) == first and Counting.calls == calls
    assert fact_bans(tokenizer, ["My wife left."]) != first and Counting.calls == calls
