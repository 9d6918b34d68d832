"""Many visitors at once on `python -m deepdream serve`: outcomes and the server's peak memory.

Starts the server in a child process on a loopback port, lets `--clients`
gradio_client visitors ask for a small dream at the same moment, and reports
how many finished (with a correct file), how many heard "busy" (queue full),
how many were lost, their latencies, and the server's resident memory: after
start-up, its peak (VmHWM) and after the load.

    python benchmarks/bench_web_load.py --weights none
    python benchmarks/bench_web_load.py --weights ../shared/weights/inception_v3_notop_q8.h5 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="none")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="waves of --clients visitors")
    parser.add_argument("--queue-size", type=int, default=4)
    parser.add_argument("--side", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    from PIL import Image
    import skimage.data

    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    photo = folder / "coffee.jpg"
    Image.fromarray(skimage.data.coffee()).save(photo, quality=92)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "GRADIO_ANALYTICS_ENABLED": "False", "TF_CPP_MIN_LOG_LEVEL": "3"}
    server = subprocess.Popen(
        [sys.executable, "-m", "deepdream", "serve", "--port", str(port), "--weights", args.weights, "--quiet",
         "--queue-size", str(args.queue_size), "--precision", "float32"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        started = _wait_until_up(url, server)
        from gradio_client import Client, handle_file

        # One dream builds the engine, so the rounds measure serving, not building.
        Client(url, verbose=False).predict(*_inputs(handle_file(str(photo)), 0, args), api_name="/dream")
        idle = _memory(server.pid)["VmRSS"]
        print(f"server up in {started:.1f} s; resident after start-up and one dream: {idle / MIB:.0f} MiB")
        for round_index in range(args.rounds):
            outcomes = _wave(url, photo, args, Client, handle_file)
            done = [seconds for kind, seconds in outcomes if kind == "done"]
            busy = sum(kind == "busy" for kind, _ in outcomes)
            lost = args.clients - len(done) - busy
            print(f"round {round_index + 1}: {args.clients} clients: {len(done)} done, {busy} busy, {lost} lost; "
                  f"latency median {statistics.median(done):.1f} s, max {max(done):.1f} s")
        memory = _memory(server.pid)
        print(f"resident now {memory['VmRSS'] / MIB:.0f} MiB, peak {memory['VmHWM'] / MIB:.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _inputs(photo, seed: int, args) -> tuple:
    return (photo, ["mixed4"], "1.0", None, None, False, 2, args.steps, 0.02, 8, seed, args.side)


def _wave(url, photo, args, Client, handle_file) -> list[tuple[str, float]]:
    outcomes: list[tuple[str, float]] = []
    barrier = threading.Barrier(args.clients)

    def visitor(index: int) -> None:
        client = Client(url, verbose=False)
        barrier.wait()
        start = time.perf_counter()
        try:
            result = client.predict(*_inputs(handle_file(str(photo)), index, args), api_name="/dream")
            kind = "done" if result[1].startswith("Done") and Path(result[2]).is_file() else "wrong"
        except Exception as error:
            kind = "busy" if "Queue is full" in str(error) else f"error: {error}"
        outcomes.append((kind, time.perf_counter() - start))

    threads = [threading.Thread(target=visitor, args=(index,)) for index in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 180) -> float:
    import urllib.request

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            urllib.request.urlopen(url, timeout=2)
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer within {timeout} s")


if __name__ == "__main__":
    main()
