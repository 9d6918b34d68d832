"""A page no visitor can hold up: real servers, real clients (gradio_client, httpx, Gradio's stream protocol).

Images are checked from their headers before they are decoded (a guide, a
clip's frames, a photo's preview, a camera frame); a preview is small (and
told its place when it waits: test_web_browser.py); a camera stream takes
the device one frame at a time and none once its visitor left; wrong logins
slow down per address; a stopped server leaves none of its files; a
visitor's error is one line in the log. The big images here are small files
that claim huge sizes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402
from web_server import CameraStream, camera_frame, free_port, running_server, write_small_photo  # noqa: E402

MAX_SIDE = 256
REPO = Path(__file__).resolve().parents[1]


def small_dream(photo, guide=None, seed: int = 0) -> tuple:
    """The `/dream` inputs for a quick dream (one octave, two steps, 120 pixels) of `photo`, guided by `guide`."""
    return (handle_file(str(photo)), ["mixed4"], "1.0", None, handle_file(str(guide)) if guide else None, False, 1, 2,
            0.02, 8, seed, 120, False)


@pytest.fixture(scope="module")
def server():
    with running_server(weights=None, precision="float32", max_side=MAX_SIDE, max_steps=20, max_upload_mb=2.0,
                        queue_size=6) as demo:
        yield demo


@pytest.fixture(scope="module")
def client(server):
    return Client(server.local_url, verbose=False)


@pytest.fixture(scope="module")
def photo(tmp_path_factory, grace_hopper):
    return write_small_photo(tmp_path_factory.mktemp("photo") / "hopper.jpg", grace_hopper)


@pytest.fixture(scope="module")
def huge_jpeg(tmp_path_factory) -> Path:
    """7900 x 7900 pixels (62 megapixels, under the limit) in under 1 MB."""
    path = tmp_path_factory.mktemp("huge") / "huge.jpg"
    Image.new("RGB", (7900, 7900), (90, 140, 200)).save(path, quality=10)
    return path


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM), where the in-process server runs."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def test_a_guide_over_the_pixel_limit_is_refused_from_its_header(client, photo, tmp_path):
    guide = tmp_path / "stripes.png"
    Image.new("1", (8200, 8200), 1).save(guide)  # 67 megapixels in 25 kB
    before = peak_memory_mb()
    with pytest.raises(AppError, match=r"guide cannot be used: .*stripes.png is 8200x8200"):
        client.predict(*small_dream(photo, guide), api_name="/dream")
    assert peak_memory_mb() - before < 150  # decoded and turned to floats it was +2.5 GB
    assert client.predict(*small_dream(photo), api_name="/dream")[1].startswith("Done")


def test_a_clip_with_frames_over_the_pixel_limit_is_refused_from_its_header(server, client, photo, tmp_path):
    import av

    clip = tmp_path / "huge.mov"
    with av.open(str(clip), "w") as container:  # one 8200 x 8000 PNG frame (66 megapixels) in 210 kB
        stream = container.add_stream("png", rate=12)
        stream.width, stream.height, stream.pix_fmt = 8200, 8000, "rgb24"
        frame = av.VideoFrame(8200, 8000, "rgb24")
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    folders = set(server.dreams.output_dir.iterdir())
    with pytest.raises(AppError, match="huge.mov has frames of 8200x8000"):
        client.predict(handle_file(str(clip)), 1, 1, *small_dream(photo)[1:], api_name="/video")
    assert set(server.dreams.output_dir.iterdir()) == folders


def test_a_huge_photo_is_previewed_small_without_holding_others_up(server, photo, huge_jpeg):
    answers = {}

    def visitor(name, path):
        start = time.monotonic()
        try:
            shown, status = Client(server.local_url, verbose=False).predict(handle_file(str(path)),
                                                                            api_name="/load_photo")
            answers[name] = (Image.open(shown).size, status, time.monotonic() - start)
        except Exception as error:  # shown by the assertions below
            answers[name] = (None, repr(error), time.monotonic() - start)

    visitors = [threading.Thread(target=visitor, args=(name, path))
                for name, path in [("huge 1", huge_jpeg), ("huge 2", huge_jpeg), ("small", photo)]]
    for thread in visitors:
        thread.start()
    for thread in visitors:
        thread.join(timeout=60)
    assert sorted(answers) == ["huge 1", "huge 2", "small"], answers
    for name in ("huge 1", "huge 2"):
        size, status, seconds = answers[name]
        assert size and max(size) <= MAX_SIDE and "7900x7900" in status, (size, status)  # was a 7900 x 7900 PNG of 86 MB
    assert answers["small"][2] < 10, answers  # was 54 s behind two huge previews


def feed(camera: CameraStream, stop: threading.Event, limit_s: float = 60) -> threading.Thread:
    """Sends camera frames four times a second until `stop` (at most `limit_s`)."""
    def send():
        deadline = time.monotonic() + limit_s
        while not stop.is_set() and time.monotonic() < deadline:
            camera.send(camera_frame())
            time.sleep(0.25)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_live_stream_gives_the_device_up_between_frames(server, client, photo):
    camera, stop = CameraStream(server.local_url, camera_frame()), threading.Event()
    try:
        assert camera.wait_for(1, timeout_s=60), camera.messages
        sender = feed(camera, stop)
        start = time.monotonic()
        job = client.submit(*small_dream(photo), api_name="/dream")
        while not job.done() and time.monotonic() - start < 30:
            time.sleep(0.1)
        assert job.done() and job.result()[1].startswith("Done"), job.status()  # it waited for the stream's 120 s
        answered = len(camera.notes)
        assert camera.wait_for(answered + 2, timeout_s=20)  # and the stream goes on
        assert "frames per second" in camera.notes[-1]
    finally:
        stop.set()
        camera.close()
    sender.join(timeout=5)


def test_a_camera_frame_says_why_it_waits(server):
    camera = CameraStream(server.local_url, camera_frame())
    try:
        assert camera.wait_for(1, timeout_s=60)
        with server.dreams.turns.job():  # a queued job holds the device
            camera.send(camera_frame())
            assert camera.wait_for(2, timeout_s=20)
        assert camera.notes[1].startswith("Paused: another visitor's job is running"), camera.notes
        camera.send(camera_frame())
        assert camera.wait_for(3, timeout_s=20) and "frames per second" in camera.notes[2]
    finally:
        camera.close()


def test_a_camera_frame_over_the_pixel_limit_is_refused(server, tmp_path):
    frame = tmp_path / "frame.png"
    Image.new("1", (8200, 8200), 1).save(frame)
    camera = CameraStream(server.local_url, frame.read_bytes())
    try:
        deadline = time.monotonic() + 30
        while not camera.errors and time.monotonic() < deadline:
            time.sleep(0.05)
        assert camera.errors and "the camera frame is 8200x8200" in camera.errors[0], camera.errors
    finally:
        camera.leave()


def test_a_stream_whose_visitor_left_holds_nobody_up(server, client, photo):
    import httpx

    camera = CameraStream(server.local_url, camera_frame(), heartbeat=False)  # a script, not a browser tab
    assert camera.wait_for(1, timeout_s=60)
    camera.leave()  # without a word: Gradio keeps the stream open until its time limit
    try:
        job = client.submit(*small_dream(photo, seed=1), api_name="/dream")
        assert job.result(timeout=30)[1].startswith("Done")  # it waited the stream's 120 s at queue position 0
    finally:
        httpx.post(f"{server.local_url}gradio_api/stream/{camera.event_id}/close", timeout=10)  # tidy for the next


def test_wrong_logins_slow_down_for_that_address_only():
    import httpx

    with running_server(auth="ada:lovelace", weights=None) as demo:
        url = demo.local_url.rstrip("/")
        guesser = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.1"), timeout=30)
        visitor = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
        start = time.monotonic()
        answers = [guesser.post(f"{url}/login", data={"username": "ada", "password": f"guess{index}"}).status_code
                   for index in range(3)]
        guessing_s = time.monotonic() - start
        assert answers == [400] * 3 and guessing_s > 2.5, (answers, guessing_s)  # 100 guesses took 0.87 s
        start = time.monotonic()
        assert visitor.post(f"{url}/login", data={"username": "ada", "password": "lovelace"}).status_code == 200
        assert time.monotonic() - start < 1.0
        assert visitor.get(f"{url}/config").status_code == 200
        assert guesser.get(f"{url}/config").status_code == 401


def test_many_logins_at_once_from_one_address_are_refused_past_a_few():
    from deepdream.web.logins import MAX_WAITING, LoginThrottle

    checked = []

    async def login_page(scope, receive, send):
        checked.append(time.monotonic())
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def attempts(count):
        throttle = LoginThrottle(login_page, first_delay_s=0.05, max_delay_s=0.2)
        scope = {"type": "http", "method": "POST", "path": "/login", "client": ("10.0.0.1", 5000)}
        statuses = []

        async def attempt():
            async def send(message):
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
            await throttle(scope, None, send)

        await asyncio.gather(*(attempt() for _ in range(count)))
        return statuses

    statuses = asyncio.run(attempts(MAX_WAITING + 3))
    assert statuses.count(429) == 3 and statuses.count(400) == MAX_WAITING
    gaps = np.diff(checked)
    assert len(checked) == MAX_WAITING and (gaps >= 0.04).all(), gaps  # one at a time, each after its delay


def test_a_stopped_server_removes_its_own_outputs_only(photo, tmp_path):
    named = tmp_path / "named"
    named.mkdir()
    for output_dir in (None, str(named)):
        with running_server(weights=None, output_dir=output_dir) as demo:
            result = Client(demo.local_url, verbose=False).predict(*small_dream(photo), api_name="/dream")[2]
            outputs = demo.dreams.output_dir
            assert result and list(outputs.iterdir())
        deadline = time.monotonic() + 15
        while output_dir is None and outputs.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if output_dir is None:
            assert not outputs.exists()  # every visitor's result stayed in /tmp
        else:
            assert [path.suffix for path in named.glob("*/*")] == [".png"]


def test_a_failed_video_leaves_no_folder(server, client, photo, tmp_path):
    import av
    from video_clips import moving_square

    clip = tmp_path / "broken.mov"
    with av.open(str(clip), "w") as container:  # four PNG frames; the second one's pixels are zeroed below
        stream = container.add_stream("png", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 80, "rgb24"
        for index in range(4):
            for packet in stream.encode(av.VideoFrame.from_ndarray(moving_square(index), format="rgb24")):
                container.mux(packet)
    data = bytearray(clip.read_bytes())
    second = data.index(b"IDAT", data.index(b"\x89PNG", data.index(b"\x89PNG") + 1)) + 8
    data[second:second + 40] = bytes(40)
    clip.write_bytes(data)
    folders = set(server.dreams.output_dir.iterdir())
    with pytest.raises(AppError, match="broken.mov"):
        client.predict(handle_file(str(clip)), 4, 1, *small_dream(photo)[1:], api_name="/video")
    assert set(server.dreams.output_dir.iterdir()) == folders  # an empty folder stayed for each


def test_a_visitors_error_is_one_line_in_the_log(client, tmp_path, capfd, caplog):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    capfd.readouterr()
    with caplog.at_level("WARNING", logger="deepdream.web"), pytest.raises(AppError, match="broken.jpg"):
        client.predict(*small_dream(broken), api_name="/dream")
    assert "Traceback" not in capfd.readouterr().err  # was the whole traceback for each bad upload
    lines = [record.getMessage() for record in caplog.records if "broken.jpg" in record.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("visitor error: ") and "\n" not in lines[0], lines
    assert str(tmp_path) not in lines[0]


@pytest.mark.slow  # ~20 s per signal on a 2-core CPU: a server in its own process, started and stopped
@pytest.mark.parametrize("stop, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "Ctrl-C"])
def test_a_stopped_server_process_removes_its_uploads_and_results(stop, status, photo, tmp_path):
    gradio_dir, temp_dir = tmp_path / "gradio", tmp_path / "tmp"
    gradio_dir.mkdir()
    temp_dir.mkdir()
    port = free_port()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(gradio_dir), "TMPDIR": str(temp_dir),
           "PYTHONPATH": str(REPO), "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "-m", "deepdream", "serve", "--weights", "none", "--port", str(port),
                               "--max-side", "128"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        client = _connected(url, server)
        assert client.predict(handle_file(photo), api_name="/load_photo")[1].startswith("Photo:")
        assert client.predict(*small_dream(photo), api_name="/dream")[1].startswith("Done")
        assert list(gradio_dir.rglob("hopper*")) and list(temp_dir.rglob("hopper_dream.png"))
        server.send_signal(stop)
        _, errors = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == status and "Traceback" not in errors, errors
    assert list(gradio_dir.iterdir()) == [] and list(temp_dir.iterdir()) == [], (
        list(gradio_dir.rglob("*")), list(temp_dir.rglob("*")))


def _connected(url: str, server: subprocess.Popen, timeout_s: float = 120) -> Client:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stderr.read()}")
        try:
            return Client(url, verbose=False)
        except Exception:  # not up yet
            time.sleep(0.5)
    raise AssertionError(f"the server did not answer within {timeout_s} s")
