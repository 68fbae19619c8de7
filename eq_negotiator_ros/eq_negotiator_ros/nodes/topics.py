"""Topic and service names of the node graph and the QoS profile of each: one place, so every node
and every client (demo driver, tests) agree. Names are relative: the node's namespace (default
/eq_negotiator) applies."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

# Topic names, relative so that the node's namespace (default /eq_negotiator) applies.
AUDIO_IN = "audio/in"
AUDIO_OUT = "audio/out"
SPEECH = "speech"
ROBOT_SPEAKING = "robot_speaking"
BARGE_IN = "barge_in"
DEBTOR_EMOTION = "debtor_emotion"
NEGOTIATION_STATE = "negotiation_state"
CREDITOR_EXPRESSION = "creditor_expression"
DIRECTIVE = "directive"
REPLY = "reply"
START_SESSION = "start_session"
RESET_SESSION = "reset_session"


AUDIO_QOS = qos_profile_sensor_data
# The ASR node reads audio/in best effort like any sensor stream, but keeps 2 s of chunks (40 of
# 50 ms) waiting instead of the sensor profile's 5 (250 ms): while recognition or the reply's model
# holds the CPU, its callbacks run late, and a chunk dropped from a full queue is a lost word.
MICROPHONE_QOS = QoSProfile(
    depth=40, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST
)
# audio/out is the echo reference: a chunk lost on the way leaves the robot's own voice in the
# microphone uncancelled (and taken for the person). The TTS node publishes it reliably, with a few
# seconds of history; the listeners that cancel the echo subscribe the same way (a best-effort
# subscriber, AUDIO_QOS, still matches).
AUDIO_OUT_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
AUDIO_REFERENCE_QOS = AUDIO_OUT_QOS
RELIABLE_QOS = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
# negotiation_state is latched: a subscriber that joins late still gets the current state.
LATCHED_QOS = QoSProfile(
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
# The latest directive is latched too: an SLM node restarted while it phrased a reply gets that
# directive again and answers it (HandledRecord tells it whether it had already done so). A
# volatile subscriber (RELIABLE_QOS) still matches this publisher.
# A subscriber of these two that asks for the latched history (as the SLM and TTS nodes do) needs
# a transient-local publisher: publish directives and replies with these profiles.
DIRECTIVE_QOS = LATCHED_QOS
# Subscribers keep more than the one replayed directive queued, so none is lost while they work.
DIRECTIVE_SUBSCRIBER_QOS = QoSProfile(
    depth=20,
    reliability=ReliabilityPolicy.RELIABLE,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
# The latest reply sentences are kept the same way, so a TTS node restarted in the middle of a
# reply speaks the sentences it had not finished.
REPLY_QOS = QoSProfile(
    depth=20,
    reliability=ReliabilityPolicy.RELIABLE,
    history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
