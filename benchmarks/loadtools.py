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
