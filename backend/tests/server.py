"""Run the real `vidmatte serve` in a subprocess for tests that talk HTTP to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every test server asks for this token (VIDMATTE_TOKEN); client() sends it.
TOKEN = "vidmatte-test-token"


class LiveServer:
    """`vidmatte serve --sam2 test-tiny` on a free port over a given data directory."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
    ):
        self.data_dir = data_dir
        self.prefix = prefix or []  # a command that runs the server, e.g. in a namespace
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VIDMATTE_SAM2": "test-tiny",
            "VIDMATTE_TOKEN": TOKEN,
            **(env or {}),
        }
        self.token = self.env["VIDMATTE_TOKEN"]
        # No token given: the server makes its own (tests read it from the data dir).
        self.headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self.process: subprocess.Popen | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 60) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            *self.prefix,
            sys.executable,
            "-m",
            "vidmatte.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, like a crash or a power cut."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, headers=self.headers)

    def log_mark(self) -> int:
        """Where the log ends now: `log_since` gives what was written after it (a shared
        server's log also holds other tests' lines, some of them failures on purpose)."""
        return self.log.stat().st_size

    def log_since(self, mark: int) -> str:
        return self.log.read_bytes()[mark:].decode(errors="replace")
