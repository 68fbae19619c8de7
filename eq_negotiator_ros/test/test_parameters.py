"""Which node declares which parameters (parameters.py): only the sections it reads, each key with
a description written in code, and every parameter a launch argument sets declared by its node."""

import pytest

from eq_negotiator_ros import graph
from eq_negotiator_ros.config import CONFIG_SECTIONS, default_config_path, flatten_parameters, read_parameters
from eq_negotiator_ros.parameters import NODE_SECTIONS, SHARED_SECTIONS, description, node_parameters

FLAT_DEFAULTS = flatten_parameters(read_parameters(default_config_path()))


def test_every_key_of_the_config_file_has_a_description():
    missing = [key for key in FLAT_DEFAULTS if not description(key)]
    assert not missing, f"keys without a description in parameters.DESCRIPTIONS: {missing}"


def test_every_config_section_is_read_by_some_node_and_every_node_is_listed():
    read = set(SHARED_SECTIONS).union(*NODE_SECTIONS.values())
    assert read == set(CONFIG_SECTIONS)
    assert set(NODE_SECTIONS) == {spec.name for spec in graph.NODES}


def test_the_tts_node_declares_tts_settings_and_the_shared_ones_only():
    names = set(node_parameters("tts_node", FLAT_DEFAULTS))
    assert {name.split(".")[0] for name in names} == {"tts", "audio", "run_dir"}
    assert (
        "tts.voice_path" in names and "eq.creditor_payoff.joy" not in names and "llm.model_path" not in names
    )


@pytest.mark.parametrize("node", sorted(NODE_SECTIONS))
def test_a_node_declares_its_sections_only(node):
    sections = {name.split(".")[0] for name in node_parameters(node, FLAT_DEFAULTS)}
    assert sections == set(SHARED_SECTIONS) | set(NODE_SECTIONS[node])


def test_every_parameter_a_launch_argument_sets_is_declared_by_its_node():
    own_parameters = {"audio_source": {"use_mic", "wav_paths"}, "eq_reasoning_node": {"policy"}}
    for argument in graph.LAUNCH_ARGUMENTS:
        if not argument.parameter:
            continue
        for node in argument.nodes:
            declared = set(node_parameters(node, FLAT_DEFAULTS)) | own_parameters.get(node, set())
            assert argument.parameter in declared, f"{node} does not declare {argument.parameter}"


def test_a_pattern_describes_every_row_of_a_matrix():
    assert description("eq.transition.distressed") == description("eq.transition.cooperative") != ""
    assert (
        description("tts.persona_voice.sadness.noise_w") == description("tts.persona_voice.joy.noise_w") != ""
    )
