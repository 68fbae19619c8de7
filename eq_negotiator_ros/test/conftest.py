"""Shared test setup: keep ROS 2 traffic on this machine and in a domain of its own, and never
let a library reach for a model hub."""

import os
import random

import pytest

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(100, 199)))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: uses real models or the real ROS 2 middleware")
    config.addinivalue_line("markers", "models: loads a real model (also marked integration)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/integration/" in str(item.fspath) or item.get_closest_marker("models"):
            item.add_marker(pytest.mark.integration)
