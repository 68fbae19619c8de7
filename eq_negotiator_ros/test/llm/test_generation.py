"""llm/generation.py: the sentence splitter (pure) and sentence streaming with stops and a deadline."""

from __future__ import annotations

import pytest

from eq_negotiator_ros.llm.generation import (
    GenerationTimeout,
    sentences_from_pieces,
    split_sentences,
    stream_chat_sentences,
    stream_sentences,
)

# -- split_sentences ------------------------------------------------------------------------------


def test_splits_on_sentence_punctuation_followed_by_space() -> None:
    assert split_sentences("I see. Can you pay? Yes! Then") == (["I see.", "Can you pay?", "Yes!"], "Then")


def test_a_boundary_at_the_end_waits_for_the_next_word_unless_final() -> None:
    assert split_sentences("We agree on 30 days.") == ([], "We agree on 30 days.")
    assert split_sentences("We agree on 30 days. ") == ([], "We agree on 30 days. ")
    assert split_sentences("We agree on 30 days.", final=True) == (["We agree on 30 days."], "")


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("You can pay 2.5 percent more. Fine.", ["You can pay 2.5 percent more.", "Fine."]),
        ("Mr. Lee will call you. Thanks.", ["Mr. Lee will call you.", "Thanks."]),
        (
            "Mrs. Smith, Dr. Brown and Ms. Jones agreed. Good.",
            ["Mrs. Smith, Dr. Brown and Ms. Jones agreed.", "Good."],
        ),
        ("Pay e.g. weekly. Or monthly.", ["Pay e.g. weekly.", "Or monthly."]),
        ("J. Smith called. Ok.", ["J. Smith called.", "Ok."]),
        ("It costs approx. fifty dollars. Ok.", ["It costs approx. fifty dollars.", "Ok."]),
        ("Well... maybe later. Sure.", ["Well... maybe later.", "Sure."]),
        ('He said "we can do it." Then left.', ['He said "we can do it."', "Then left."]),
        ("Really?! Yes. ", ["Really?!", "Yes."]),
        ("In the U.S. Army. Ok.", ["In the U.S. Army.", "Ok."]),
    ],
)
def test_not_split_inside_decimals_abbreviations_and_initials(text: str, sentences: list[str]) -> None:
    found, rest = split_sentences(text, final=True)
    assert found == sentences and rest == ""


def test_incomplete_text_stays_in_the_remainder() -> None:
    assert split_sentences("no punctuation here", final=True) == ([], "no punctuation here")
    assert split_sentences("") == ([], "")
    assert split_sentences(None) == ([], "")  # type: ignore[arg-type]
    assert split_sentences("... ?! ", final=True) == ([], "")
    assert split_sentences("🙂 Yes. 🙂", final=True) == (["🙂 Yes."], "🙂")


def test_long_garbage_does_not_raise() -> None:
    sentences, rest = split_sentences("x." * 5000 + " " + "y" * 10000, final=True)
    assert isinstance(sentences, list) and isinstance(rest, str)


# -- streaming -----------------------------------------------------------------------------------


def pieces(*texts: str, finish: str | None = "stop"):
    """(text, finish_reason) pairs as llama.cpp streams them: the last carries the finish reason."""
    return [(t, None) for t in texts[:-1]] + [(texts[-1], finish)]


class FakeClock:
    def __init__(self, step_s: float = 0.0) -> None:
        self.now = 0.0
        self.step_s = step_s

    def __call__(self) -> float:
        self.now += self.step_s
        return self.now


def test_yields_each_sentence_as_soon_as_the_next_word_starts() -> None:
    seen: list[str] = []

    def source():
        for text in ["I under", "stand.", " Can", " you pay", " in 30 days?", ""]:
            seen.append(text)
            yield text, None
        yield "", "stop"

    stream = sentences_from_pieces(source(), timeout_s=10)
    assert next(stream) == "I understand."
    assert seen[-1] == " Can"  # decided on the first token of the next sentence, not later
    assert list(stream) == ["Can you pay in 30 days?"]


def test_prefix_is_part_of_the_first_sentence() -> None:
    out = list(
        sentences_from_pieces(pieces(" understand your situation.", " Thanks."), timeout_s=10, prefix="I")
    )
    assert out == ["I understand your situation.", "Thanks."]


def test_complete_prefix_sentences_come_before_the_model_runs() -> None:
    calls = []

    def source():
        calls.append("model started")
        yield " 45 days to repay.", "stop"

    stream = sentences_from_pieces(source(), timeout_s=10, prefix="I hear you. We can offer you")
    assert next(stream) == "I hear you."
    assert calls == []
    assert list(stream) == ["We can offer you 45 days to repay."]


def test_stops_at_another_speakers_turn() -> None:
    out = list(
        sentences_from_pieces(
            pieces("We can offer 30 days.", "\nDeb", "tor: I can't pay that.", finish="length"), timeout_s=10
        )
    )
    assert out == ["We can offer 30 days."]
    out = list(sentences_from_pieces(pieces("Fine, 30 days", "\nAgent (calm, firm):", " ok"), timeout_s=10))
    assert out == ["Fine, 30 days"]
    out = list(sentences_from_pieces(pieces("Thirty days works.", "\n\nAnything else"), timeout_s=10))
    assert out == ["Thirty days works."]


def test_a_newline_that_is_not_a_turn_is_a_space() -> None:
    out = list(sentences_from_pieces(pieces("We can offer", "\nthirty days. Ok."), timeout_s=10))
    assert out == ["We can offer thirty days.", "Ok."]


def test_stop_strings_end_the_reply() -> None:
    out = list(sentences_from_pieces(pieces("Thirty days. <end> More text."), stop=["<end>"], timeout_s=10))
    assert out == ["Thirty days."]


def test_text_cut_by_max_tokens_is_not_said() -> None:
    out = list(
        sentences_from_pieces(pieces("Thirty days is fine.", " And then we", finish="length"), timeout_s=10)
    )
    assert out == ["Thirty days is fine."]
    out = list(
        sentences_from_pieces(
            iter([("One. ", None), ("Two", None), (" three", None)]), timeout_s=10, max_tokens=2
        )
    )
    assert out == ["One."]


def test_unpunctuated_end_is_said_when_the_model_stopped_by_itself() -> None:
    assert list(sentences_from_pieces(pieces("Sixty days works for us"), timeout_s=10)) == [
        "Sixty days works for us"
    ]


def test_timeout_raises_after_the_complete_sentences() -> None:
    clock = FakeClock(step_s=1.0)
    stream = sentences_from_pieces(
        iter([("One. ", None), ("Two. ", None)] + [("X", None)] * 100), timeout_s=5.5, clock=clock
    )
    got = []
    with pytest.raises(GenerationTimeout) as caught:
        for sentence in stream:
            got.append(sentence)
    assert got == ["One.", "Two."]
    assert caught.value.sentences_yielded == 2
    assert caught.value.partial.startswith("X")
    assert "llm.timeout_s" in str(caught.value)


def test_closing_the_stream_closes_the_source() -> None:
    closed = []

    def source():
        try:
            yield "One. Two. ", None
            yield "Three.", "stop"
        finally:
            closed.append(True)

    stream = sentences_from_pieces(source(), timeout_s=10)
    assert next(stream) == "One."
    stream.close()
    assert closed == [True]


class FakeLlama:
    """Streams canned chunks in llama.cpp's formats and records the call."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.calls: list[dict] = []
        self.metadata = {}

    def __call__(self, prompt, **kwargs):
        self.calls.append({"prompt": prompt, **kwargs})
        return (
            {"choices": [{"text": t, "finish_reason": "stop" if i == len(self.texts) - 1 else None}]}
            for i, t in enumerate(self.texts)
        )

    def create_chat_completion(self, messages, **kwargs):
        self.calls.append({"messages": messages, **kwargs})
        return (
            {
                "choices": [
                    {"delta": {"content": t}, "finish_reason": "stop" if i == len(self.texts) - 1 else None}
                ]
            }
            for i, t in enumerate(self.texts)
        )


def test_stream_sentences_passes_the_settings_to_llama() -> None:
    llama = FakeLlama(["Hello there.", " Thirty days?"])
    out = list(
        stream_sentences(llama, "PROMPT", max_tokens=40, temperature=0.3, stop=["\n"], timeout_s=5, top_p=0.9)
    )
    assert out == ["Hello there.", "Thirty days?"]
    call = llama.calls[0]
    assert call["prompt"] == "PROMPT" and call["stream"] is True
    assert (
        call["max_tokens"] == 40
        and call["temperature"] == 0.3
        and call["stop"] == ["\n"]
        and call["top_p"] == 0.9
    )


def test_stream_chat_sentences_reads_deltas() -> None:
    llama = FakeLlama(["", "We can do", " 45 days.", " Thanks."])
    out = list(
        stream_chat_sentences(
            llama, [{"role": "user", "content": "hi"}], max_tokens=40, temperature=0.5, timeout_s=5
        )
    )
    assert out == ["We can do 45 days.", "Thanks."]
    assert llama.calls[0]["messages"] == [{"role": "user", "content": "hi"}]
