"""Many visitors at once on `python -m deepdream serve`: outcomes, latencies and the server's peak memory.

Starts the server in a child process on a loopback port, lets `--clients`
gradio_client visitors ask for a small dream at the same moment (a barrier),
`--rounds` times, and reports how many finished (with a correct file), how
many heard "busy" (queue full), how many were lost, their latencies, and the
server's resident memory: after start-up, its peak (VmHWM) and after the load.

With `--adversaries`, three of the visitors of each round try to hold the
others up: one asks for a dream guided by a 20 kB PNG of 13000 x 13000
one-bit pixels (`--guide-side`; it must be refused in one line), one uploads a 7900 x 7900
JPEG for its preview (it must come back small), and one holds a Live camera
stream, four frames a second, for the whole round (it must be answered at
least every 10 s: a dream, or a line saying why it waits). Every visitor must get its
answer or a busy message within `--limit-s`, and the server's peak memory
must stay under `--max-peak-mb`. Then the server is stopped with SIGTERM and
the files it left in its temporary folders are counted (none expected).

    python benchmarks/bench_web_load.py --weights none
    python benchmarks/bench_web_load.py --weights none --adversaries
    python benchmarks/bench_web_load.py --weights ../shared/weights/inception_v3_notop_q8.h5 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import shutil
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
HUGE_PHOTO_SIDE = 7900
# The camera must get an answer (a dream, or why it waits) at least this often; frames sent meanwhile are dropped
# by Gradio in favour of the newest.
LIVE_GAP_LIMIT_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="none")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="waves of --clients visitors")
    parser.add_argument("--queue-size", type=int, default=4)
    parser.add_argument("--side", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--adversaries", action="store_true",
                        help="three visitors of each round send an oversized guide, a huge photo and a live stream")
    parser.add_argument("--guide-side", type=int, default=13000,
                        help="the oversized guide's side (one-bit pixels; 13000: a 20 kB PNG of 169 megapixels)")
    parser.add_argument("--limit-s", type=float, default=120.0, help="each visitor's answer must come within this")
    parser.add_argument("--max-peak-mb", type=float, default=3000.0, help="the server's peak memory must stay under")
    args = parser.parse_args()

    from PIL import Image
    import skimage.data

    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    inputs = _inputs_in(folder, Image, skimage.data.coffee(), args.guide_side)
    server_temp, gradio_temp = folder / "tmp", folder / "gradio"
    server_temp.mkdir()
    gradio_temp.mkdir()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "GRADIO_ANALYTICS_ENABLED": "False", "TF_CPP_MIN_LOG_LEVEL": "3",
           "TMPDIR": str(server_temp), "GRADIO_TEMP_DIR": str(gradio_temp)}
    server = subprocess.Popen(
        [sys.executable, "-m", "deepdream", "serve", "--port", str(port), "--weights", args.weights, "--quiet",
         "--queue-size", str(args.queue_size), "--precision", "float32", "--max-side", str(max(args.side, 256))],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []
    try:
        url = f"http://127.0.0.1:{port}/"
        started = _wait_until_up(url, server)
        from gradio_client import Client, handle_file

        # One dream builds the engine, so the rounds measure serving, not building.
        Client(url, verbose=False).predict(*_dream(handle_file(str(inputs["photo"])), 0, args), api_name="/dream")
        idle = _memory(server.pid)["VmRSS"]
        print(f"server up in {started:.1f} s; resident after start-up and one dream: {idle / MIB:.0f} MiB")
        for round_index in range(args.rounds):
            outcomes = _wave(url, inputs, args, Client, handle_file)
            failures += _report(round_index + 1, outcomes, args)
        memory = _memory(server.pid)
        peak_mb = memory["VmHWM"] / MIB
        print(f"resident now {memory['VmRSS'] / MIB:.0f} MiB, peak {peak_mb:.0f} MiB "
              f"({'under' if peak_mb < args.max_peak_mb else 'OVER'} {args.max_peak_mb:.0f} MiB)")
        if peak_mb >= args.max_peak_mb:
            failures.append(f"peak memory {peak_mb:.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=60)
    left = [path for path in (*server_temp.rglob("*"), *gradio_temp.rglob("*"))]
    print(f"stopped with SIGTERM: exit {server.returncode}, {len(left)} files and folders left in its temporary folders")
    if left:
        failures.append(f"{len(left)} paths left after the server stopped")
    shutil.rmtree(folder, ignore_errors=True)
    print("every visitor answered within its limits" if not failures else f"FAILED: {'; '.join(failures)}")
    return 1 if failures else 0


def _inputs_in(folder: Path, Image, coffee, guide_side: int) -> dict[str, Path]:
    """The photo every visitor dreams, and the adversaries' huge photo and guide (small files)."""
    photo = folder / "coffee.jpg"
    Image.fromarray(coffee).save(photo, quality=92)
    huge_photo = folder / "huge.jpg"
    Image.new("RGB", (HUGE_PHOTO_SIDE, HUGE_PHOTO_SIDE), (90, 140, 200)).save(huge_photo, quality=10)
    huge_guide = folder / "guide.png"
    Image.new("1", (guide_side, guide_side), 1).save(huge_guide)
    return dict(photo=photo, huge_photo=huge_photo, huge_guide=huge_guide)


def _dream(photo, seed: int, args, guide=None) -> tuple:
    """The `/dream` inputs: photo, layers, weights, channel, guide, lapnorm, octaves, steps, step size, jitter,
    seed, largest side, keep the photo's colours."""
    return (photo, ["mixed4"], "1.0", None, guide, False, 2, args.steps, 0.02, 8, seed, args.side, False)


def _wave(url, inputs, args, Client, handle_file) -> list[tuple[str, str, float]]:
    """One round: `(visitor, outcome, seconds)` for each visitor, the camera's last."""
    outcomes: list[tuple[str, str, float]] = []
    barrier = threading.Barrier(args.clients - (1 if args.adversaries else 0))
    camera = _Camera(url, args.limit_s) if args.adversaries else None

    def ask(name: str, call, judge) -> None:
        client = Client(url, verbose=False)
        barrier.wait()
        start = time.perf_counter()
        try:
            kind = judge(call(client))
        except Exception as error:
            text = str(error)
            kind = ("busy" if "Queue is full" in text else
                    "refused" if "guide cannot be used" in text and "too large" in text else f"error: {text[:80]}")
        seconds = time.perf_counter() - start
        outcomes.append((name, kind if seconds <= args.limit_s else f"late: {kind}", seconds))

    def dream(index: int):
        return lambda client: client.predict(*_dream(handle_file(str(inputs["photo"])), index, args),
                                             api_name="/dream")

    def dreamed(result) -> str:
        return "done" if result[1].startswith("Done") and Path(result[2]).is_file() else "wrong"

    visitors = [(f"dream {index}", dream(index), dreamed) for index in range(args.clients)]
    if args.adversaries:
        guide = lambda client: client.predict(  # noqa: E731
            *_dream(handle_file(str(inputs["photo"])), 0, args, guide=handle_file(str(inputs["huge_guide"]))),
            api_name="/dream")
        preview = lambda client: client.predict(handle_file(str(inputs["huge_photo"])),  # noqa: E731
                                                api_name="/load_photo")
        visitors = [(f"guide {args.guide_side}x{args.guide_side}", guide, lambda result: "wrong: accepted"),
                    (f"preview {HUGE_PHOTO_SIDE}x{HUGE_PHOTO_SIDE}", preview, _small_preview(args)),
                    *visitors[3:]]
    threads = [threading.Thread(target=ask, args=visitor) for visitor in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.limit_s + 60)
    if camera is not None:
        outcomes.append(camera.stop())
    return outcomes


def _small_preview(args):
    from PIL import Image

    def judge(result) -> str:
        shown, status = result
        side = max(Image.open(shown).size)
        return "preview" if side <= max(args.side, 256) and "Photo:" in status else f"wrong: {side} px, {status}"

    return judge


class _Camera:
    """The live visitor: a camera stream (tests/web_server.py's `CameraStream`) fed four frames a second."""

    def __init__(self, url: str, limit_s: float):
        sys.path.insert(0, str(REPO / "tests"))
        from web_server import CameraStream, camera_frame

        self.frame = camera_frame()
        self.stream = CameraStream(url, self.frame, timeout_s=limit_s)
        if not self.stream.wait_for(1, timeout_s=limit_s):  # the first frame builds the live engine
            raise RuntimeError(f"the camera's first frame got no answer: {self.stream.messages}")
        self.sent, self.start = 1, time.monotonic()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        while not self.stopped.wait(0.25):
            self.stream.send(self.frame)
            self.sent += 1

    def stop(self) -> tuple[str, str, float]:
        """Stops the stream; the outcome: frames sent, answered (dreamed or paused), the longest wait for one."""
        self.stopped.set()
        self.thread.join(timeout=10)
        self.stream.wait_for(len(self.stream.notes) + 1, timeout_s=2)  # the last frame's answer
        notes, times = list(self.stream.notes), [self.start, *self.stream.answered_at[1:]]
        self.stream.close()
        dreamed = sum("frames per second" in note for note in notes)
        paused = sum(note.startswith("Paused") for note in notes)
        gap = max(later - earlier for earlier, later in zip(times, times[1:])) if len(times) > 1 else float("inf")
        kind = (f"live: {self.sent} frames sent, {dreamed} dreamed, {paused} paused, longest wait "
                f"{gap:.1f} s" + ("" if gap <= LIVE_GAP_LIMIT_S and dreamed > 1 else " (too long)"))
        return "camera stream", kind, time.monotonic() - self.start


def _report(round_number: int, outcomes: list[tuple[str, str, float]], args) -> list[str]:
    """Prints the round's table; returns what went wrong."""
    done = [seconds for _, kind, seconds in outcomes if kind == "done"]
    busy = sum(kind == "busy" for _, kind, _ in outcomes)
    print(f"\nround {round_number}: {args.clients} visitors: {len(done)} dreams done, {busy} busy; "
          f"dream latency median {statistics.median(done) if done else float('nan'):.1f} s, "
          f"max {max(done, default=float('nan')):.1f} s")
    print("| visitor | outcome | seconds |\n|---|---|---|")
    failures = []
    for name, kind, seconds in outcomes:
        print(f"| {name} | {kind} | {seconds:.1f} |")
        if kind.startswith(("error", "wrong", "late")) or kind.endswith("(too long)"):
            failures.append(f"{name}: {kind}")
    return failures


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
    sys.exit(main())
