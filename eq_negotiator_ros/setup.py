"""ament_python package: `colcon build` on a ROS 2 install, or `pip install -e .` in the venv."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "eq_negotiator_ros"

NODES = {
    "audio_source": "audio_source_node",
    "asr_node": "asr_node",
    "eq_reasoning_node": "eq_reasoning_node",
    "slm_node": "slm_node",
    "tts_node": "tts_node",
}

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    package_data={PACKAGE: ["data/*", "data/**/*"]},
    include_package_data=True,
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="EQ-Negotiator maintainers",
    maintainer_email="maintainers@eq-negotiator.dev",
    description="EQ-Negotiator voice agent as ROS 2 nodes",
    license="MIT",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "eq-negotiator = eq_negotiator_ros.cli:main",
            *[f"{name} = {PACKAGE}.nodes.{module}:main" for name, module in NODES.items()],
        ],
    },
)
