"""audio_source: publishes audio/in from the microphone (ALSA `arecord`) or from WAV files.

WAV files are published in real time (one chunk per chunk duration), followed by a second of
silence so the ASR's end-of-speech detection sees each file end, then the node idles. Playing
starts once something subscribes to audio/in: audio is best-effort, and the ASR node subscribes
only after loading its model, so a file played at once would lose its first seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import numpy as np
from rclpy.node import Node

from eq_negotiator_interfaces.msg import AudioChunk

from ..speech.audio import AudioFormatError, chunk_samples, int16_to_float, iter_chunks, read_wav, silence
from . import topics
from .config_parameters import declare_config
from .lifecycle import run_node

TRAILING_SILENCE_S = 1.0
# After the publisher sees a subscriber, the subscriber's side of discovery may lag a little.
SUBSCRIBER_SETTLE_S = 0.5


class AudioSourceNode(Node):
    def __init__(self) -> None:
        super().__init__("audio_source")
        self.config = declare_config(self, "audio_source")
        self.declare_parameter("use_mic", False)
        self.declare_parameter("wav_paths", [""])
        self.rate_hz = self.config.audio.sample_rate_hz
        self.pub = self.create_publisher(AudioChunk, topics.AUDIO_IN, topics.AUDIO_QOS)
        self.turn = 0
        self.stop = threading.Event()
        self.recorder: Optional[subprocess.Popen] = None
        use_mic = bool(self.get_parameter("use_mic").value)
        wav_paths = [Path(p).expanduser() for p in self.get_parameter("wav_paths").value if p]
        # Files named explicitly are the input asked for: they win over use_mic (true by default).
        if wav_paths:
            if use_mic:
                self.get_logger().info("wav_paths given: playing the files, not the microphone")
            target = lambda: self.play_files(wav_paths)  # noqa: E731
        elif use_mic:
            target = self.capture_microphone
        else:
            self.get_logger().warning(
                "no input: set use_mic:=true or wav_paths:=[file.wav, ...]; publishing nothing"
            )
            return
        self.thread = threading.Thread(target=target, name="audio_source", daemon=True)
        self.thread.start()

    def publish(self, samples: np.ndarray, end_of_segment: bool = False, frame_id: str = "wav") -> None:
        message = AudioChunk()
        message.header.stamp = self.get_clock().now().to_msg()
        message.header.frame_id = frame_id
        message.samples = samples.astype(np.float32).tolist()
        message.sample_rate_hz, message.channels = self.rate_hz, 1
        message.turn, message.end_of_segment = self.turn, end_of_segment
        self.pub.publish(message)

    def wait_for_listener(self) -> bool:
        """Block until audio/in has a subscriber; False when the node is closing first."""
        if self.pub.get_subscription_count() == 0:
            self.get_logger().info(f"waiting for a subscriber on {topics.AUDIO_IN} before playing")
        while self.pub.get_subscription_count() == 0:
            if self.stop.wait(0.1):
                return False
        return not self.stop.wait(SUBSCRIBER_SETTLE_S)

    def play_files(self, paths: list[Path]) -> None:
        chunk_s = self.config.audio.chunk_ms / 1000.0
        if not self.wait_for_listener():
            return
        for path in paths:
            try:
                samples, _ = read_wav(path, target_rate_hz=self.rate_hz)
            except (OSError, AudioFormatError, ValueError) as error:
                self.get_logger().error(f"cannot read {path}: {error}; skipped")
                continue
            self.turn += 1
            self.get_logger().info(f"playing {path} ({len(samples) / self.rate_hz:.1f} s)")
            audio = np.concatenate([samples, silence(TRAILING_SILENCE_S, self.rate_hz)])
            next_time = time.monotonic()
            pieces = list(iter_chunks(audio, self.rate_hz, self.config.audio.chunk_ms, pad_last=True))
            for index, piece in enumerate(pieces):
                if self.stop.is_set():
                    return
                self.publish(piece, end_of_segment=index == len(pieces) - 1)
                next_time += chunk_s
                time.sleep(max(0.0, next_time - time.monotonic()))

    def capture_microphone(self) -> None:
        if shutil.which("arecord") is None:
            self.get_logger().error("microphone capture needs ALSA's arecord (apt-get install alsa-utils)")
            return
        command = ["arecord", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(self.rate_hz)]
        if self.config.audio.input_device:
            command += ["-D", self.config.audio.input_device]
        self.recorder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        bytes_per_chunk = 2 * chunk_samples(self.config.audio.chunk_ms, self.rate_hz)
        self.get_logger().info(f"listening on {self.config.audio.input_device or 'the default microphone'}")
        while not self.stop.is_set():
            data = self.recorder.stdout.read(bytes_per_chunk)
            if not data:
                error = self.recorder.stderr.read().decode(errors="replace").strip()
                self.get_logger().error(f"microphone closed: {error or 'no data'}; check audio.input_device")
                return
            self.publish(int16_to_float(data), frame_id="mic")

    def release(self) -> None:
        """Stop the microphone or the WAV playback (at exit)."""
        self.stop.set()
        if self.recorder is not None and self.recorder.poll() is None:
            self.recorder.terminate()


def main() -> None:
    run_node(AudioSourceNode)


if __name__ == "__main__":
    main()
