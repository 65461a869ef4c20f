"""Helpers shared by the load benchmarks (channels.py, faults.py)."""

from __future__ import annotations

import os
from pathlib import Path


def pct(values, q):
    """The q-quantile of values (nearest rank); NaN when there are none."""
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """user + system CPU time of a process from /proc (with ``children``, also of its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    columns = (11, 12, 13, 14) if children else (11, 12)
    return sum(int(fields[i]) for i in columns) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy (not idle or waiting for I/O) since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def processes_cpu_seconds(name: str) -> float:
    """user + system CPU time of every live process whose command name is ``name`` (e.g. postgres)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def wait_for_senders(database_url: str, count: int, timeout: float = 120.0) -> None:
    """Until ``count`` processes have written their outbox heartbeat (a worker does so once its
    model is loaded and its threads run), so messages are not sent to a process still starting."""
    import time

    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                with engine.connect() as conn:
                    if conn.execute(text("SELECT count(*) FROM processes")).scalar() >= count:
                        return
            except Exception:  # noqa: BLE001 - the table appears with the server's migration
                pass
            time.sleep(0.2)
        raise SystemExit(f"{count} sending process(es) did not start within {timeout:.0f} s")
    finally:
        engine.dispose()


def peak_rss_mib(pid: int) -> float:
    """The peak resident memory of a live process (VmHWM), in MiB; NaN if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def dashboard_login(app, email: str, password: str):
    """A Flask test client logged in to the dashboard (the login form's CSRF token included)."""
    import re

    client = app.test_client()
    html = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post("/dashboard/login", data={"email": email, "password": password, "csrf_token": token})
    return client


def timed_get(client, path: str, runs: int) -> tuple[float, float, float, int, int]:
    """GET ``path`` once to warm up, then ``runs`` times: median, p95 and max milliseconds, the
    last HTTP status and body size."""
    import statistics
    import time

    client.get(path)
    times, status, size = [], 0, 0
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        status, size = response.status_code, len(response.data)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, times[-1], status, size


class RestOfMachine:
    """CPU outside the measured processes over a run: PostgreSQL's, this benchmark's own (load
    generator and fake platform API) and how busy all cores were. ``line(messages)`` after ``stop()``."""

    def __init__(self):
        import time

        self._clock = time.monotonic
        self._start = self._sample()
        self.machine = self.postgres = self.harness = self.wall = 0.0

    def _sample(self) -> tuple[float, float, float, float]:
        return machine_busy_seconds(), processes_cpu_seconds("postgres"), cpu_seconds(os.getpid()), self._clock()

    def stop(self) -> RestOfMachine:
        self.machine, self.postgres, self.harness, self.wall = (b - a for a, b in zip(self._start, self._sample()))
        return self

    def line(self, messages: int, note: str = "") -> str:
        per = 1000 / max(1, messages)
        cores = os.cpu_count() or 1
        return (f"the rest of the machine per message: PostgreSQL {self.postgres * per:.1f} ms, this benchmark (load generator + "
                f"fake Graph API) {self.harness * per:.1f} ms; all cores busy {100 * self.machine / max(self.wall, 1e-9) / cores:.0f} % "
                f"of {cores} over {self.wall:.0f} s{note}")

