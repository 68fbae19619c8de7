"""`ros2 launch PACKAGE FILE NAME:=VALUE ...` without ros2cli (not installable here): what the verb
does, finding the launch file in the package's share directory through the ament index and running
it with launch.LaunchService. Run it after `source <install>/setup.bash`."""

import os
import signal
import sys

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import AnyLaunchDescriptionSource


def main() -> int:
    # A shell starts a background job with SIGINT ignored, and Python then installs no handler of
    # its own: Ctrl-C never wakes the launch system's loop (it listens on Python's wakeup fd) and
    # the launch runs on, idle. A terminal delivers Ctrl-C; so does this helper, wherever the suite
    # was started. (The nodes, exec'd from here, then start with SIGINT at its default, as under a
    # terminal.)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    package, launch_file, *arguments = sys.argv[1:]
    launch_arguments = [tuple(argument.split(":=", 1)) for argument in arguments]
    path = os.path.join(get_package_share_directory(package), "launch", launch_file)
    service = LaunchService(argv=arguments)
    service.include_launch_description(
        LaunchDescription(
            [
                IncludeLaunchDescription(AnyLaunchDescriptionSource(path), launch_arguments=launch_arguments),
            ]
        )
    )
    return service.run()


if __name__ == "__main__":
    sys.exit(main())
