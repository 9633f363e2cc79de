"""Start a real `promptlane serve` process on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROMPTLANE = str(Path(sys.executable).parent / "promptlane")


def free_port() -> int:
    """Return a port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(**settings: str) -> dict[str, str]:
    """Return the environment without the developer's settings, plus `settings`.

    PROMPTLANE_* and OTEL_* variables are dropped: an OTEL_EXPORTER_OTLP_ENDPOINT in the shell
    would make test servers export their spans somewhere.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTLANE_", "OTEL_"))}
    env.update({f"PROMPTLANE_{k.upper()}": v for k, v in settings.items()})
    return env


@dataclass
class Server:
    """A running server process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def output(self) -> str:
        """Return what the server printed so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    tmp: Path, *, args: tuple[str, ...] = (), ready: bool = True, **settings: str
) -> Server:
    """Start `promptlane serve` and wait until /readyz answers 200 (or /healthz, if not `ready`)."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    settings.setdefault("secret_key_file", str(tmp / f"secret-{port}.key"))  # never in ~
    env = server_env(log_level="warning", **settings)
    command = [PROMPTLANE, "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", port, process, log, env)
    probe = "/readyz" if ready else "/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(server.url + probe, timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become ready:\n{server.output()}")
