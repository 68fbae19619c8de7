"""The simulated room (speech/room.py): the robot's playback comes back late, quieter and
reverberated, block by block exactly as in one piece, with the room's noise and the person on top."""

import numpy as np
import pytest

from eq_negotiator_ros.speech.room import RoomSettings, SimulatedRoom, impulse_response, mix

RATE = 16000


def test_the_echo_arrives_after_the_delay_at_the_direct_gain_then_decays():
    settings = RoomSettings(echo_delay_ms=50.0, echo_gain_db=-6.0, reverb_time_s=0.3, reverb_level_db=-10.0)
    response = impulse_response(settings)
    delay = int(0.05 * RATE)
    assert np.all(response[:delay] == 0.0)
    assert response[delay] == pytest.approx(10 ** (-6 / 20))
    tail = response[delay + 1 :]
    assert tail.size == int(0.3 * RATE)
    quarter = tail.size // 4
    assert np.sum(tail[:quarter] ** 2) > 100 * np.sum(tail[-quarter:] ** 2)  # decays, 60 dB by RT60
    assert 10 * np.log10(np.sum(tail**2) / response[delay] ** 2) == pytest.approx(-10.0, abs=0.01)


def test_blocks_of_any_length_give_the_same_echo_as_one_piece():
    rng = np.random.default_rng(5)
    played = (rng.standard_normal(RATE) * 0.1).astype(np.float32)
    settings = RoomSettings(echo_delay_ms=30.0, reverb_time_s=0.2, noise_dbfs=-200.0)
    whole = SimulatedRoom(settings).echo(played)
    room = SimulatedRoom(settings)
    cuts = [0, 1, 160, 161, 2000, 7000, 9999, RATE]
    pieces = [room.echo(played[a:b]) for a, b in zip(cuts, cuts[1:])]
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-5)


def test_the_microphone_hears_echo_noise_and_the_person():
    rng = np.random.default_rng(6)
    played = (rng.standard_normal(RATE) * 0.1).astype(np.float32)
    person = (rng.standard_normal(RATE // 2) * 0.05).astype(np.float32)
    settings = RoomSettings(echo_delay_ms=20.0, echo_gain_db=-12.0, noise_dbfs=-50.0, seed=3)
    quiet = mix(np.zeros(RATE, dtype=np.float32), None, settings)
    assert 20 * np.log10(np.sqrt(np.mean(quiet**2))) == pytest.approx(-50.0, abs=0.5)
    echo_only = mix(played, None, settings)
    assert np.sqrt(np.mean(echo_only**2)) == pytest.approx(0.1 * 10 ** (-12 / 20), rel=0.2)
    with_person = mix(played, person, settings)
    np.testing.assert_allclose(with_person[: person.size] - echo_only[: person.size], person, atol=1e-5)
    np.testing.assert_allclose(with_person[person.size :], echo_only[person.size :], atol=1e-6)
    # Seeded: the same room replays the same way.
    np.testing.assert_array_equal(mix(played, person, settings), with_person)


def test_a_negative_delay_is_refused():
    with pytest.raises(ValueError, match="echo_delay_ms"):
        RoomSettings(echo_delay_ms=-1.0)
