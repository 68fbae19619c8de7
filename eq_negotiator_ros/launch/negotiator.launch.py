"""Start the EQ-Negotiator graph: ros2 launch eq_negotiator_ros negotiator.launch.py [arg:=value ...]

Arguments (see eq_negotiator_ros/graph.py, shared with `eq-negotiator run`): namespace,
params_file, llm_model_path, asr_model_path, tts_voice_path, use_mic, wav_paths, barge_in, gpu_layers.
Works on Humble, Jazzy and Kilted.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from eq_negotiator_ros import graph

PACKAGE = "eq_negotiator_ros"


def _nodes(context, *args, **kwargs):
    arguments = {a.name: LaunchConfiguration(a.name).perform(context) for a in graph.LAUNCH_ARGUMENTS}
    params_file = arguments["params_file"] or os.path.join(
        get_package_share_directory(PACKAGE), "config", "negotiator.yaml")
    actions = []
    for spec in graph.selected_nodes(arguments):
        parameters = [params_file]
        overrides = graph.parameter_overrides(spec, arguments)
        if overrides:
            parameters.append(overrides)
        # As `eq-negotiator run` does: a node that dies is started again where graph.restart_policy
        # says that is safe (launch's respawn has no backoff or limit; run adds both).
        restart = graph.restart_policy(spec.name, arguments)
        actions.append(Node(
            package=PACKAGE, executable=spec.executable, name=spec.name,
            namespace=arguments["namespace"], parameters=parameters, output="screen", emulate_tty=True,
            respawn=restart.allowed, respawn_delay=graph.RESTART_BACKOFF_S,
        ))
    return actions


def generate_launch_description():
    declared = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description)
                for a in graph.LAUNCH_ARGUMENTS]
    return LaunchDescription(declared + [OpaqueFunction(function=_nodes)])
