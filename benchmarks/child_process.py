"""Running a benchmark's command in a child process and reading what it used."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time

GIB = 2**30


@dataclasses.dataclass(frozen=True)
class ChildUsage:
    """Wall seconds, CPU seconds and peak resident memory of one finished child process."""

    wall_seconds: float
    cpu_seconds: float
    peak_rss_gib: float


def run_child(command: list[str], env: dict) -> ChildUsage:
    """Runs `command` in the tree on its PYTHONPATH (`-m` looks in the working directory first).

    Raises:
        RuntimeError: the command failed; the message holds its stderr.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr}")
    return ChildUsage(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / GIB)
