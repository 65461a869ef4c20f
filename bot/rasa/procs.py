"""Running Rasa next to the bot: the cached Python 3.10 environment, free ports, servers in subprocesses.

Used by the integration tests (tests/test_rasa_integration.py) and the benchmark
(benchmarks/rasa_compare.py); nothing in the product imports it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_ENV_SCRIPT = ROOT / "bin" / "rasa-env"
NO_PYTHON_310 = 3  # bin/rasa-env's exit code when no Python 3.10 exists


class RasaEnvMissing(RuntimeError):
    """No Python 3.10 on this machine: Rasa 3.6 cannot run."""


def rasa_env() -> tuple[Path, float]:
    """The cached Rasa environment (created on first use) and the seconds this call took."""
    started = time.perf_counter()
    proc = subprocess.run([str(RASA_ENV_SCRIPT)], capture_output=True, text=True)
    if proc.returncode == NO_PYTHON_310:
        raise RasaEnvMissing(proc.stderr.strip())
    if proc.returncode != 0:
        raise RuntimeError(f"bin/rasa-env failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def rasa_environ(extra: dict | None = None) -> dict:
    """Environment for Rasa commands: this repository importable (the tokenizer), no telemetry, quiet TF."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update({"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1"})
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float, log: Path | None = None) -> None:
    """Wait until ``url`` answers 200; raise with the process log if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s:\n{tail}")


def start(cmd: list[str], log: Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - closed with the process by stop()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    proc._log_file = out  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    log = getattr(proc, "_log_file", None)
    if log is not None:
        log.close()


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process and its children, in MiB (Linux)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def train(venv: Path, project: Path, log: Path, nlu_only: bool = False, timeout: float = 3600) -> float:
    """``rasa train`` (or ``rasa train nlu``) in ``project`` into models/model.tar.gz; seconds taken."""
    cmd = [str(venv / "bin" / "rasa"), "train"] + (["nlu"] if nlu_only else []) + [
        "--fixed-model-name", "model", "--out", "models"]
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.run(cmd, cwd=project, env=rasa_environ(), stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"rasa train failed ({proc.returncode}):\n{log.read_text(errors='replace')[-4000:]}")
    return time.perf_counter() - started


def run_rasa(venv: Path, project: Path, port: int, log: Path) -> subprocess.Popen:
    """``rasa run --enable-api`` on the project's trained model (the action server from endpoints.yml)."""
    cmd = [str(venv / "bin" / "rasa"), "run", "--enable-api", "--model", "models/model.tar.gz", "--port", str(port),
           "--interface", "127.0.0.1", "--endpoints", "endpoints.yml"]
    return start(cmd, log, cwd=project, env=rasa_environ())
