"""Start the EQ-Negotiator graph: ros2 launch eq_negotiator_ros negotiator.launch.py [arg:=value ...]

Arguments (see eq_negotiator_ros/graph.py, shared with `eq-negotiator run`): namespace,
params_file, llm_model_path, asr_model_path, tts_voice_path, use_mic, wav_paths, barge_in, gpu_layers.
Works on Humble, Jazzy and Kilted.

The four model nodes are lifecycle nodes: each process, when it starts (and again when it is
respawned), is configured (loads its model) and, once inactive, activated, so one launch gives a
working graph; `<node>/get_state` answers `active` when it is ready.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessStart
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

from eq_negotiator_ros import graph

PACKAGE = "eq_negotiator_ros"


def _nodes(context, *args, **kwargs):
    arguments = {a.name: LaunchConfiguration(a.name).perform(context) for a in graph.LAUNCH_ARGUMENTS}
    params_file = arguments["params_file"] or os.path.join(
        get_package_share_directory(PACKAGE), "config", "negotiator.yaml"
    )
    actions = []
    for spec in graph.selected_nodes(arguments):
        parameters = [params_file]
        overrides = graph.parameter_overrides(spec, arguments)
        if spec.managed:
            overrides["autostart"] = False  # the transitions below bring it up
        if overrides:
            parameters.append(overrides)
        # As `eq-negotiator run` does: a node that dies is started again where graph.restart_policy
        # says that is safe (launch's respawn has no backoff or limit; run adds both).
        restart = graph.restart_policy(spec.name, arguments)
        kind = LifecycleNode if spec.managed else Node
        node = kind(
            package=PACKAGE,
            executable=spec.executable,
            name=spec.name,
            namespace=arguments["namespace"],
            parameters=parameters,
            output="screen",
            emulate_tty=True,
            respawn=restart.allowed,
            respawn_delay=graph.RESTART_BACKOFF_S,
        )
        actions.append(node)
        if spec.managed:
            actions += _bring_up(node)
    return actions


def _change_state(node, transition_id):
    return EmitEvent(
        event=ChangeState(lifecycle_node_matcher=matches_action(node), transition_id=transition_id)
    )


def _bring_up(node):
    """Configure each (re)started process; activate it once configuring has succeeded (not after a
    deactivation someone asked for)."""
    return [
        RegisterEventHandler(
            OnProcessStart(
                target_action=node, on_start=[_change_state(node, Transition.TRANSITION_CONFIGURE)]
            )
        ),
        RegisterEventHandler(
            OnStateTransition(
                target_lifecycle_node=node,
                start_state="configuring",
                goal_state="inactive",
                entities=[_change_state(node, Transition.TRANSITION_ACTIVATE)],
            )
        ),
    ]


def generate_launch_description():
    declared = [
        DeclareLaunchArgument(a.name, default_value=a.default, description=a.description)
        for a in graph.LAUNCH_ARGUMENTS
    ]
    return LaunchDescription(declared + [OpaqueFunction(function=_nodes)])
