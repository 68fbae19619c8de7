"""config.py and the `--set` overrides of every command: wrong numbers, ranges and names are one
clear line naming the key (exit code 2), never a traceback and never silently ignored."""

from __future__ import annotations

import math

import pytest

from eq_negotiator_ros.cli import main, parse_overrides
from eq_negotiator_ros.config import BOUNDS, ConfigError, load_config


@pytest.mark.parametrize(
    "key",
    [
        "offer.concession_beta",
        "offer.reservation_multiple",
        "llm.timeout_s",
        "eq.learning.prior_strength",
        "asr.max_utterance_s",
        "tts.length_scale",
    ],
)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan", "Infinity", "-inf"])
def test_non_finite_numbers_are_refused(key, value):
    with pytest.raises(ConfigError, match=rf"^{key}: .* is not a finite number"):
        load_config(overrides={key: value})


@pytest.mark.parametrize("key", ["offer.max_utterances", "offer.deadline_turns", "audio.chunk_ms"])
@pytest.mark.parametrize("value", [math.nan, math.inf, "1e400"])
def test_non_finite_whole_numbers_are_refused_not_a_traceback(key, value):
    with pytest.raises(ConfigError, match=rf"^{key}: "):
        load_config(overrides={key: value})


@pytest.mark.parametrize(
    "key, value",
    [
        ("offer.max_utterances", 0),
        ("offer.max_utterances", -3),
        ("offer.max_utterances", 10**9),
        ("offer.deadline_turns", 0),
        ("offer.concession_beta", 0.0),
        ("offer.max_step_fraction", 1.5),
        ("offer.agreement_gap_days", -1),
        ("offer.max_reservation_days", 0),
        ("llm.threads", 0),
        ("llm.max_reply_tokens", 0),
        ("llm.timeout_s", 0),
        ("asr.beam_size", 0),
        ("asr.max_utterance_s", 0),
        ("audio.sample_rate_hz", 0),
        ("audio.chunk_ms", 100000),
        ("tts.length_scale", 0),
        ("session.max_target_days", 0),
        ("session.max_balance", -1.0),
        ("eq.learning.fit_iterations", 0),
    ],
)
def test_numbers_out_of_range_are_refused_with_the_range(key, value):
    with pytest.raises(ConfigError, match=rf"^{key}: .* out of range; it must be "):
        load_config(overrides={key: value})


def test_the_shipped_config_is_inside_every_range():
    config = load_config()
    for dotted, bounds in BOUNDS.items():
        section, *rest = dotted.split(".")
        value = getattr(config, section)
        for name in rest:
            value = getattr(value, name)
        assert bounds.allows(value), f"{dotted} = {value} is outside {bounds.describe()}"


def test_a_whole_number_setting_refuses_a_fraction():
    with pytest.raises(ConfigError, match=r"^offer.max_utterances: 2.5 is not a whole number"):
        load_config(overrides={"offer.max_utterances": 2.5})


@pytest.mark.parametrize(
    "key, message",
    [
        ("ofer.max_utterances", "ofer: unknown section; did you mean offer?"),
        ("offer.max_utterance", "offer.max_utterance: unknown setting; did you mean offer.max_utterances?"),
        ("eq.polcy.lose_threshold", "eq.polcy: unknown section; did you mean eq.policy?"),
        (
            "eq.learning.histroy_episodes",
            "eq.learning.histroy_episodes: unknown setting; did you mean eq.learning.history_episodes?",
        ),
        ("asr.vad_treshold", "asr.vad_treshold: unknown setting; did you mean asr.vad_threshold?"),
        (
            "offer.state_concession_factor.cooprative",
            "did you mean offer.state_concession_factor.cooperative?",
        ),
        ("run_dri", "run_dri: unknown setting; did you mean run_dir?"),
        ("zzz_unrelated", "zzz_unrelated: unknown setting; known: eq, offer,"),
    ],
)
def test_unknown_keys_and_sections_are_named_with_a_close_match(key, message):
    with pytest.raises(ConfigError) as raised:
        load_config(overrides={key: 1})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_unknown_keys_in_the_file_are_named_too(tmp_path):
    path = tmp_path / "negotiator.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    offer:\n      max_utterances: 12\n    sesion:\n      x: 1\n"
    )
    with pytest.raises(ConfigError, match="^sesion: unknown section; did you mean session?"):
        load_config(path)


def test_node_parameters_may_sit_next_to_the_config_sections():
    config = load_config(overrides={"use_mic": False, "wav_paths": ["a.wav"], "policy": "eq"})
    assert config.offer.max_utterances == 30


def test_a_broken_yaml_file_is_one_line(tmp_path):
    path = tmp_path / "negotiator.yaml"
    path.write_text("offer:\n  max_utterances: [1, 2\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "not valid YAML" in str(raised.value) and "line" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "item, message",
    [
        ("offer.max_utterances=[1, 2", "--set offer.max_utterances: '[1, 2' is not a valid YAML value"),
        ('llm.model_path="/a b', "--set llm.model_path:"),
        ("offer.max_utterances", "--set expects KEY=VALUE"),
        ("=3", "--set expects KEY=VALUE"),
        ("offer..max_utterances=3", "--set expects KEY=VALUE"),
    ],
)
def test_broken_set_items_are_a_config_error(item, message):
    with pytest.raises(ConfigError) as raised:
        parse_overrides([item])
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_set_values_are_yaml():
    assert parse_overrides(
        ["offer.max_utterances=12", "tts.play_audio=false", "llm.model_path=/m.gguf", "asr.language="]
    ) == {
        "offer.max_utterances": 12,
        "tts.play_audio": False,
        "llm.model_path": "/m.gguf",
        "asr.language": "",
    }


# Every command loads its config before any model, node or file: each must report a bad --set as
# one line on stderr with exit code 2 (usage error).
COMMANDS = [["analyze"], ["chat", "--templates"], ["run"], ["demo"], ["bench"], ["bench-latency"], ["doctor"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    "setting, named",
    [
        ("ofer.max_utterances=3", "did you mean offer?"),
        ("offer.max_utterances=0", "offer.max_utterances: 0 is out of range"),
        ("offer.concession_beta=nan", "offer.concession_beta: 'nan' is not a finite number"),
        ("offer.max_utterances=[1,", "is not a valid YAML value"),
        ("offer.max_utterances", "--set expects KEY=VALUE"),
    ],
)
def test_every_command_reports_a_bad_set_as_one_line_and_exit_code_2(command, setting, named, capsys):
    code = main(["--set", setting, *command])
    captured = capsys.readouterr()
    assert code == 2
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert named in lines[0]
    assert "Traceback" not in captured.err + captured.out
