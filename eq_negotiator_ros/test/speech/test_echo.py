"""Echo cancellation (speech/echo.py): the robot's own voice, played and heard back through a
simulated room (speech/room.py), is taken out of the microphone and never counts as the person;
the person's voice over it, or right after it, is let through and recognised."""

import dataclasses

import numpy as np
import pytest

from eq_negotiator_ros.speech.audio import resample
from eq_negotiator_ros.speech.echo import (
    BLOCK_SAMPLES,
    EchoCanceller,
    EchoSettings,
    MicrophoneClock,
    ReferenceTimeline,
    echo_share,
    estimate_delay,
)
from eq_negotiator_ros.speech.room import RoomSettings, SimulatedRoom
from eq_negotiator_ros.speech.vad import UtteranceSegmenter

RATE = 16000
CHUNK = 320  # 20 ms, as a microphone delivers
# Rooms a robot meets: a loudspeaker next to the microphone or across the body, a dry or a
# reverberant room, quiet or noisy. Not chosen for the canceller: the spread it must cover.
ROOMS = (
    RoomSettings(echo_delay_ms=20.0, echo_gain_db=-3.0, reverb_time_s=0.2, noise_dbfs=-60.0, seed=1),
    RoomSettings(echo_delay_ms=90.0, echo_gain_db=-10.0, reverb_time_s=0.45, noise_dbfs=-50.0, seed=2),
    RoomSettings(echo_delay_ms=180.0, echo_gain_db=-20.0, reverb_time_s=0.3, noise_dbfs=-55.0, seed=3),
)
ROBOT_REPLY = (
    "I understand your position. What we can offer is sixty days, and we could start next month "
    "if that helps you."
)


def power_db(samples: np.ndarray) -> float:
    return 10 * np.log10(max(float(np.mean(np.asarray(samples, dtype=np.float64) ** 2)), 1e-15))


def run_room(room: RoomSettings, played: np.ndarray, person: np.ndarray | None = None):
    """Stream played (+ person) through the room and the canceller; (mic, output, flags per chunk)."""
    simulated, canceller = SimulatedRoom(room), EchoCanceller()
    mics, outputs, flags = [], [], []
    for start in range(0, played.size - CHUNK + 1, CHUNK):
        voice = None if person is None else person[start : start + CHUNK]
        mic = simulated.microphone(played[start : start + CHUNK], voice)
        frame = canceller.process(mic, played[start : start + CHUNK])
        mics.append(mic)
        outputs.append(frame.samples)
        flags.append(frame.person_over_echo)
    return np.concatenate(mics), np.concatenate(outputs), np.array(flags), canceller


def vad_utterances(samples: np.ndarray) -> int:
    segmenter = UtteranceSegmenter()
    return len(segmenter.push(samples)) + len(segmenter.flush())


def test_gcc_phat_finds_the_echo_delay():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal(RATE + 4000)
    for lag in (0, 37, 1500, 3999):
        microphone = 0.3 * reference[4000 - lag : 4000 - lag + RATE] + 0.05 * rng.standard_normal(RATE)
        found, clarity = estimate_delay(microphone, reference, 4000)
        assert found == lag and clarity > 5.0


def test_the_echo_share_tells_an_echo_from_another_sound():
    rng = np.random.default_rng(3)
    played = (rng.standard_normal(RATE) * 0.1).astype(np.float32)
    for room in ROOMS:
        delay = int(room.echo_delay_ms * RATE / 1000)
        heard = SimulatedRoom(room).microphone(played)
        # Aligned at the echo's delay, the reference explains most of what the microphone heard.
        assert echo_share(heard[delay:], played[: played.size - delay]) > 0.6, room
    other = (rng.standard_normal(RATE) * 0.1).astype(np.float32)
    assert echo_share(other, played) < 0.1


def test_the_reference_timeline_joins_jittered_chunks_and_resamples_them_as_one_stream():
    rng = np.random.default_rng(1)
    native_rate = 22050
    audio = (rng.standard_normal(native_rate) * 0.1).astype(np.float32)
    timeline = ReferenceTimeline(RATE)
    start_s = 1000.0
    chunk = 882  # 40 ms
    for index, begin in enumerate(range(0, audio.size, chunk)):
        jitter_s = rng.uniform(-0.004, 0.004)  # stamps jitter, the sound does not
        timeline.add(
            start_s + begin / native_rate + jitter_s * (index > 0), audio[begin : begin + chunk], native_rate
        )
    timeline.flush()
    whole = resample(audio, native_rate, RATE)
    first = timeline.index_of(start_s)
    read = timeline.read(first, whole.size)
    inner = slice(200, whole.size - 200)  # away from the stream's own two ends
    assert np.max(np.abs(read[inner] - whole[inner])) < 1e-3
    assert np.all(timeline.read(first - 500, 500) == 0.0)  # before anything played: silence
    # A later reply, after a pause, lands at its own stamp.
    timeline.add(start_s + 3.0, np.ones(441, dtype=np.float32) * 0.5, native_rate)
    timeline.flush()
    later = timeline.read(timeline.index_of(start_s + 3.0), 320)
    assert np.all(timeline.read(timeline.index_of(start_s + 2.0), 1000) == 0.0)
    assert np.mean(later[20:300]) == pytest.approx(0.5, abs=0.02)


def test_a_stopped_playback_takes_back_what_was_handed_out_for_later():
    timeline = ReferenceTimeline(RATE)
    chunk = np.full(882, 0.5, dtype=np.float32)  # 40 ms at 22.05 kHz, handed out ahead of time
    for index in range(10):
        timeline.add(100.0 + 0.04 * index, chunk, 22050)
    timeline.cut(100.2)  # the player was killed 200 ms in
    heard = timeline.read(timeline.index_of(100.0), int(0.4 * RATE))
    assert np.mean(heard[400:3000]) == pytest.approx(0.5, abs=0.02)
    assert np.all(heard[int(0.2 * RATE) :] == 0.0)
    # The next reply starts a run of its own at its stamp.
    timeline.add(101.0, chunk, 22050)
    timeline.flush()
    assert np.mean(timeline.read(timeline.index_of(101.0) + 40, 500)) == pytest.approx(0.5, abs=0.02)


def test_the_microphone_clock_joins_chunks_whose_stamps_jitter():
    clock = MicrophoneClock(RATE)
    first = clock.start_of(10.0, 1600)
    assert first == 10 * RATE - 1600
    assert clock.start_of(10.1 + 0.004, 1600) == first + 1600  # jitter: joined
    assert clock.start_of(10.5, 1600) == int(10.5 * RATE) - 1600  # a gap: placed by its stamp


def test_the_filter_learns_the_room_and_takes_the_echo_out():
    rng = np.random.default_rng(2)
    played = (rng.standard_normal(4 * RATE) * 0.1).astype(np.float32)
    for room in ROOMS:
        # Without the room's noise, which no canceller can take out and which would bound the figure.
        simulated, canceller = SimulatedRoom(dataclasses.replace(room, noise_dbfs=-150.0)), EchoCanceller()
        residuals, mics = [], []
        for start in range(0, played.size, CHUNK):
            mic = simulated.microphone(played[start : start + CHUNK])
            mics.append(mic)
            # The residual itself (live), not what the gate lets through.
            residuals.append(canceller.process(mic, played[start : start + CHUNK]).live)
        mic, residual = np.concatenate(mics), np.concatenate(residuals)
        last = slice(3 * RATE, residual.size)
        assert canceller.delay_ms == pytest.approx(room.echo_delay_ms, abs=1000 * BLOCK_SAMPLES / RATE / 2)
        # Echo return loss enhancement over the last second: the echo is more than 20 dB down.
        assert power_db(mic[last]) - power_db(residual[last]) > 20.0, room


@pytest.mark.models
def test_the_robot_never_takes_its_own_voice_for_the_person(synthesizer):
    played = resample(synthesizer.synthesize(ROBOT_REPLY), synthesizer.sample_rate_hz, RATE)
    played = np.concatenate([played, np.zeros(RATE, dtype=np.float32)])  # and its echo's tail
    for room in ROOMS:
        mic, output, flags, canceller = run_room(room, played)
        assert not flags.any(), f"the robot took its own voice for the person in {room}"
        # The VAD hears no speech in what is left of the robot's voice; in the raw microphone it does.
        assert vad_utterances(output) == 0
        assert vad_utterances(mic) > 0


@pytest.mark.models
def test_the_person_over_the_robot_is_heard_within_a_few_blocks_and_kept(synthesizer, speak_16k):
    played = resample(synthesizer.synthesize(ROBOT_REPLY), synthesizer.sample_rate_hz, RATE)
    person = speak_16k("Please give me more time to pay.")
    speech_start = int(np.argmax(np.abs(person) > 0.02))  # Piper's leading silence is not speech
    for room, at_s in zip(ROOMS, (1.5, 2.5, 3.5)):
        onset = int(at_s * RATE)
        voice = np.zeros(max(played.size, onset + person.size), dtype=np.float32)
        voice[onset : onset + person.size] = person
        robot = np.zeros_like(voice)
        robot[: played.size] = played
        mic, output, flags, _ = run_room(room, robot, voice)
        chunks = np.flatnonzero(flags)
        assert chunks.size, f"the person was not heard over the robot in {room}"
        first_s = (chunks[0] + 1) * CHUNK / RATE
        assert (onset + speech_start) / RATE <= first_s <= (onset + speech_start) / RATE + 0.2, room
        # Their words are let through from the first sound (the gate opens back to before it).
        spoken = slice(onset + speech_start, onset + person.size)
        first_word = slice(onset + speech_start, onset + speech_start + 1600)
        assert power_db(output[first_word]) > power_db(voice[first_word]) - 3.0
        # Nothing was learned from their voice: once they stop, the robot is its echo again.
        after = (onset + person.size) // CHUNK + int(0.6 * RATE) // CHUNK
        assert not flags[after:].any(), room
        assert power_db(output[spoken]) > power_db(voice[spoken]) - 6.0


@pytest.mark.models
def test_a_person_who_answers_as_the_robot_finishes_is_heard_from_the_first_word(
    synthesizer, speak_16k, recognizer
):
    played = resample(synthesizer.synthesize(ROBOT_REPLY), synthesizer.sample_rate_hz, RATE)
    person = speak_16k("Can I pay the balance in ninety days instead?")
    robot = np.concatenate([played, np.zeros(person.size + RATE, dtype=np.float32)])
    voice = np.zeros_like(robot)
    voice[played.size : played.size + person.size] = person  # while the robot's echo still rings
    _, output, _, _ = run_room(ROOMS[1], robot, voice)
    heard = output[played.size - 3200 : played.size + person.size + 3200]
    text = recognizer.transcribe(heard).text.lower()
    assert text.split()[:2] == ["can", "i"], text
    assert "ninety" in text or "90" in text


def test_settings_out_of_range_are_refused():
    with pytest.raises(ValueError, match="echo_filter_ms"):
        EchoSettings(filter_ms=4)
    with pytest.raises(ValueError, match="step size"):
        EchoSettings(step_size=0.0)
    with pytest.raises(ValueError, match="reference must cover"):
        EchoCanceller().process(np.zeros(100), np.zeros(50))


@pytest.mark.models
def test_a_microphone_that_does_not_hear_the_loudspeaker_is_passed_through_untouched(synthesizer, speak_16k):
    # A headset, or a driver that publishes the person's voice alone: no echo to find, nothing to
    # take out or gate once the robot has played a while without any echo showing, and nothing
    # lost of a person who talks from the moment the robot begins.
    played = resample(synthesizer.synthesize(ROBOT_REPLY), synthesizer.sample_rate_hz, RATE)
    person = speak_16k("Please give me more time to pay.")
    onset = RATE // 4
    voice = np.zeros(max(played.size, onset + person.size) + RATE, dtype=np.float32)
    voice[onset : onset + person.size] = person
    robot = np.zeros_like(voice)
    robot[: played.size] = played
    canceller, outputs, active = EchoCanceller(), [], []
    for start in range(0, voice.size - CHUNK + 1, CHUNK):
        frame = canceller.process(voice[start : start + CHUNK], robot[start : start + CHUNK])
        outputs.append(frame.samples)
        active.append(frame.echo_active)
    output = np.concatenate(outputs)
    after = int(1.6 * RATE) // CHUNK
    assert not any(active[after:])  # the robot's sound is not in this microphone
    # All of it, the start too: held back while the echo was looked for, then let through.
    assert output.size >= voice.size - CHUNK - 256
    np.testing.assert_allclose(output, voice[: output.size], atol=1e-6)


@pytest.mark.models
def test_a_person_talking_over_the_robot_for_a_whole_conversation_is_never_taken_for_its_echo(synthesizer):
    # A microphone that does not hear the loudspeaker, and a person who often talks over the robot
    # in its very voice (the same synthetic voice, as the simulated debtor once was) saying the same
    # numbers: GCC-PHAT finds chance peaks between two such voices, and a delay taken from one made
    # the double-talk rule silence the person. No delay is taken; every word is let through.
    person_voice = synthesizer  # the robot's own voice
    robot_lines = (
        "I hear you. We can offer sixty days to repay the balance.",
        "Let's keep this simple. Ninety days is what we can do.",
        "I understand this is hard. Could you manage seventy days?",
    )
    person_lines = (
        "Could we say ninety days?",
        "Sixty days would work for me.",
        "I can't even pay my staff right now.",
    )
    rate = synthesizer.sample_rate_hz
    robot = [resample(synthesizer.synthesize(line), rate, RATE) for line in robot_lines]
    person = [resample(person_voice.synthesize(line), rate, RATE) for line in person_lines]
    rng = np.random.default_rng(7)
    canceller = EchoCanceller()
    for turn in range(30):
        played, said = robot[turn % 3], person[rng.integers(3)]
        onset = RATE + int(rng.integers(0, played.size))  # the person starts while the robot speaks
        length = max(RATE + played.size, onset + said.size) + RATE
        reference, microphone = np.zeros(length, np.float32), np.zeros(length, np.float32)
        reference[RATE : RATE + played.size] = played
        microphone[onset : onset + said.size] = said
        microphone += rng.normal(0.0, 1e-3, length).astype(np.float32)
        outputs = [
            canceller.process(microphone[i : i + CHUNK], reference[i : i + CHUNK]).samples
            for i in range(0, length - CHUNK + 1, CHUNK)
        ]
        output = np.concatenate(outputs)
        kept = slice(onset, min(onset + said.size, output.size))
        assert power_db(output[kept]) > power_db(microphone[kept]) - 1.0, f"turn {turn}: words silenced"
    assert not canceller.echo_path_found, canceller.delay_ms
