"""EQ-Negotiator: an on-device voice agent that negotiates debt repayment with emotional intelligence.

Pure core (`eq`, `speech`, `llm`, `sim`) takes data and returns data; only `nodes` and `cli`
touch ROS, devices, files and clocks.
"""

__version__ = "0.1.0"
