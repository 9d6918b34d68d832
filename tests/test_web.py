"""`python -m deepdream serve` through its API (gradio_client): every mode, bad uploads, limits, paths, load."""

from __future__ import annotations

import shlex
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402
from web_server import running_server, write_small_photo  # noqa: E402

from deepdream import settings  # noqa: E402
from deepdream.cli import main  # noqa: E402
from inception_keras.images import load_image  # noqa: E402

QUEUE_SIZE = 3
MAX_FRAMES = 4


def small_dream(photo, seed: int = 0, steps: int = 2, size: int = 120, original_colors: bool = False) -> tuple:
    """The `/dream` inputs: photo, layers, layer weights, channel, guide, lapnorm, octaves, steps,
    step size, jitter, seed, largest side, keep the photo's colours."""
    return (handle_file(photo), ["mixed4"], "1.0", None, None, False, 2, steps, 0.02, 8, seed, size, original_colors)


@pytest.fixture(scope="module")
def server(reference_notop, tmp_path_factory):
    _, weights = reference_notop
    with running_server(weights=str(weights), precision="float32", max_side=256, max_steps=20,
                        max_frames=MAX_FRAMES, queue_size=QUEUE_SIZE, max_upload_mb=2.0,
                        output_dir=str(tmp_path_factory.mktemp("outputs"))) as demo:
        yield demo


@pytest.fixture(scope="module")
def client(server):
    return Client(server.local_url, verbose=False)


@pytest.fixture(scope="module")
def photo(tmp_path_factory, grace_hopper):
    return write_small_photo(tmp_path_factory.mktemp("photo") / "hopper.jpg", grace_hopper)


@pytest.mark.slow  # ~15 s on a 2-core CPU: the page's engine and two command-line runs
def test_page_cli_and_settings_from_write_the_same_file(client, photo, reference_notop, tmp_path):
    _, weights = reference_notop
    shown, status, download, command = client.predict(*small_dream(photo, seed=4), api_name="/dream")
    assert status.startswith("Done")
    page = open(download, "rb").read()
    dreamed = load_image(download)
    assert dreamed.shape == load_image(photo).shape and not np.array_equal(dreamed, load_image(photo))

    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "deepdream", "hopper.jpg"]
    flags = [str(weights) if word == "WEIGHTS" else word for word in words[4:]]
    flags[flags.index("-o") + 1] = str(tmp_path / "cli.png")
    assert main([photo, *flags]) == 0
    assert (tmp_path / "cli.png").read_bytes() == page

    assert main([photo, "--settings-from", download, "--weights", str(weights), "-o", str(tmp_path / "again.png"),
                 "--quiet"]) == 0
    assert (tmp_path / "again.png").read_bytes() == page
    assert settings.read(download)["seed"] == 4


def test_render_and_gallery(client):
    image, status, download, command = client.predict("mixed4", 3, "pixel", 80, 1, 2, 0, api_name="/render")
    assert settings.read(download)["channel"] == 3 and "--noise 80x80" in command
    cells, status, download, command = client.predict("mixed4", 5, 2, "pixel", 80, 1, 2, 0, api_name="/gallery")
    assert [cell["caption"] for cell in cells] == ["mixed4:5", "mixed4:6"]
    assert settings.read(download)["channel"] == "5-6"


def test_video_keeps_audio_and_settings(client, tmp_path):
    import av
    from video_clips import write_clip

    clip = write_clip(tmp_path / "clip.mp4", frames=6, audio=True)
    status, video, download, command = client.predict(
        handle_file(str(clip)), 3, 1, *small_dream(clip)[1:], api_name="/video")
    with av.open(download) as container:
        assert container.streams.video[0].frames == 3 and container.streams.audio
    assert settings.read(download)["mode"] == "video" and command.startswith("python -m deepdream clip.mp4 ")

    with pytest.raises(AppError, match=f"at most {MAX_FRAMES} video frames|greater than maximum value {MAX_FRAMES}"):
        client.predict(handle_file(str(clip)), MAX_FRAMES + 1, 1, *small_dream(clip)[1:], api_name="/video")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(AppError, match="notes.mp4"):
        client.predict(handle_file(str(text)), 2, 1, *small_dream(clip)[1:], api_name="/video")


def test_zoom(client, photo):
    status, video, download, command = client.predict(handle_file(photo), 3, 1.05, *small_dream(photo)[1:],
                                                      api_name="/zoom")
    assert settings.read(download)["frames"] == 3 and "--zoom-frames 3" in command
    assert command.startswith("python -m deepdream hopper.jpg ")


def test_keep_the_photos_colours_reaches_the_settings_and_the_command(client, photo):
    from deepdream.colors import to_ycbcr

    shown, status, download, command = client.predict(*small_dream(photo, seed=1, original_colors=True),
                                                      api_name="/dream")
    assert settings.read(download)["original_colors"] is True and "--original-colors" in command.split()
    dreamed, original = load_image(download), load_image(photo)
    assert not np.array_equal(dreamed, original)
    chroma_moved = np.abs(to_ycbcr(dreamed)[..., 1:] - to_ycbcr(original)[..., 1:]).mean()
    assert chroma_moved < 1.0, chroma_moved
    plain = client.predict(*small_dream(photo, seed=1), api_name="/dream")[2]
    assert settings.read(plain)["original_colors"] is False


def test_a_stopped_video_resumes_from_its_kept_frames(server, monkeypatch, tmp_path):
    """The page's video is `jobs.dream_video` (browser-playable sides, resumable): a visitor who left comes back."""
    import av
    from video_clips import write_clip

    from deepdream import jobs
    from deepdream.video_dream import FrameDreamer

    calls, gate, dream = [], threading.Event(), FrameDreamer.dream
    real_dream_video = jobs.dream_video

    def dream_video(*args, **kwargs):
        calls.append(kwargs)
        return real_dream_video(*args, **kwargs)

    def gated(self, frame, flows=None):
        if self.previous_frame is not None:
            gate.wait(30)  # frame 1 waits until the visitor has left
        return dream(self, frame, flows)

    monkeypatch.setattr(jobs, "dream_video", dream_video)
    monkeypatch.setattr(FrameDreamer, "dream", gated)
    clip = write_clip(tmp_path / "odd.mp4", frames=6)
    controls = small_dream(str(clip), size=95)[1:]  # 95x79: odd sides, cropped for the browser's player
    cancelled = server.dreams.outcomes["cancelled"]
    updates = server.dreams.video(str(clip), MAX_FRAMES, 1, *controls)
    for status, *_ in updates:
        if status.startswith("1/4"):
            break
    updates.close()  # the tab was closed: the job stops at its next frame
    gate.set()
    deadline = time.monotonic() + 60
    while _job_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.dreams.outcomes["cancelled"] == cancelled + 1
    kept = list(server.dreams.output_dir.glob("job-*/odd_dream.mp4.frames"))
    assert len(kept) == 1 and sorted(p.name for p in kept[0].glob("frame_*.png")) == [
        "frame_000000.png", "frame_000001.png"]

    *_, (status, video, download, command) = server.dreams.video(str(clip), MAX_FRAMES, 1, *controls)
    assert status.startswith("Done: 4 frames.") and "Resuming with 2 of 4 frames finished." in status, status
    assert str(server.dreams.output_dir) not in status and not kept[0].exists()
    assert [(call["even_sides"], call["hooks"].on_progress is not None) for call in calls] == [(True, True)] * 2
    with av.open(download) as container:
        stream = container.streams.video[0]
        assert (stream.frames, stream.width, stream.height) == (4, 94, 78)
    assert settings.read(download)["max_frames"] == MAX_FRAMES and "--resume" not in command


def test_the_controls_take_the_options_ranges_capped_by_the_limits(server):
    from deepdream.options import DreamOptions, VideoOptions, ZoomOptions

    controls = {block.elem_id: block for block in server.blocks.values() if getattr(block, "elem_id", None)}
    assert (controls["steps"].minimum, controls["steps"].maximum, controls["steps"].value) == (1, 20, 20)
    assert (controls["octaves"].minimum, controls["octaves"].maximum, controls["octaves"].value) == (
        1, 20, DreamOptions.octaves)
    assert (controls["size"].maximum, controls["size"].value) == (256, 256)
    assert controls["step_size"].value == DreamOptions.step_size and controls["step_size"].minimum > 0
    assert (controls["v_frames"].maximum, controls["z_frames"].value) == (MAX_FRAMES, MAX_FRAMES)
    assert controls["v_frame_steps"].value == VideoOptions.frame_steps
    assert (controls["z_zoom"].minimum, controls["z_zoom"].maximum, controls["z_zoom"].value) == (
        0.5, 2.0, ZoomOptions.zoom)
    assert controls["original_colors"].value is DreamOptions.original_colors


def test_the_page_uses_no_command_line_and_no_private_names():
    import ast

    import deepdream.web

    for path in Path(deepdream.web.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        modules = {alias.asname or alias.name for node in imports for alias in node.names}
        for node in imports:
            for alias in node.names:
                name = f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
                assert not any(part.startswith("cli") for part in name.split(".")), (path.name, name)
                assert not alias.name.startswith("_"), (path.name, name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                assert not node.attr.startswith("_"), (path.name, f"{node.value.id}.{node.attr}")


@pytest.mark.parametrize("kind", ["empty", "truncated", "text", "bomb"])
def test_bad_uploads_get_one_message(client, photo, tmp_path, kind):
    path = tmp_path / "upload.png"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(open(photo, "rb").read()[:600])
        path = path.rename(tmp_path / "upload.jpg")
    elif kind == "text":
        path.write_text("hello")
    else:
        Image.new("L", (9000, 9000)).save(path)  # 81 megapixels in ~80 kB
    shown, message = client.predict(handle_file(str(path)), api_name="/load_photo")
    assert shown is None and message.startswith("**This file cannot be dreamed:**")
    assert str(tmp_path) not in message
    with pytest.raises(AppError, match=path.name):
        client.predict(*small_dream(str(path)), api_name="/dream")


def test_limits_are_refused_with_a_message(client, photo):
    with pytest.raises(AppError, match="at most 256 pixels|greater than maximum value 256"):
        client.predict(*small_dream(photo, size=257), api_name="/dream")
    with pytest.raises(AppError, match="at most 20 steps|greater than maximum value 20"):
        client.predict(*small_dream(photo, steps=21), api_name="/dream")


def test_files_outside_the_outputs_are_refused(server, client, photo):
    import httpx

    url = server.local_url.rstrip("/")
    download = client.predict(*small_dream(photo), api_name="/dream")[2]
    assert httpx.get(f"{url}/gradio_api/file={download}", timeout=10).status_code == 200
    outputs = server.dreams.output_dir
    for path in ["/etc/passwd", f"{outputs}/../../../../etc/passwd", f"{outputs}/%2e%2e/%2e%2e/etc/passwd",
                 "../../../../etc/passwd", f"{photo}", str(Path("pyproject.toml").resolve()), "pyproject.toml"]:
        for route in ("gradio_api/file=", "file=", "gradio_api/file/"):
            response = httpx.get(f"{url}/{route}{path}", timeout=10)
            assert response.status_code != 200 or "root:" not in response.text, (route, path)
            assert response.status_code in (403, 404, 405), (route, path, response.status_code)


def test_eight_clients_at_once_finish_or_hear_busy(server, photo):
    outcomes = {}
    clients = [Client(server.local_url, verbose=False) for _ in range(8)]
    together = threading.Barrier(len(clients))

    def visitor(index):
        together.wait()
        try:
            result = clients[index].predict(*small_dream(photo, seed=index), api_name="/dream")
            outcomes[index] = ("done", result[2])
        except Exception as error:  # the queue-full answer arrives as an exception
            outcomes[index] = ("error", str(error))

    threads = [threading.Thread(target=visitor, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert sorted(outcomes) == list(range(8))
    done = {i: path for i, (kind, path) in outcomes.items() if kind == "done"}
    busy = [message for kind, message in outcomes.values() if kind == "error"]
    assert all("Queue is full" in message for message in busy), busy
    assert len(done) >= QUEUE_SIZE and busy
    for index, path in done.items():
        assert settings.read(path)["seed"] == index
        assert not np.array_equal(load_image(path), load_image(photo))
    assert Client(server.local_url, verbose=False).predict(*small_dream(photo), api_name="/dream")[1].startswith("Done")


def test_a_cancelled_job_frees_its_place(server, photo, tmp_path, grace_hopper):
    cancelled = server.dreams.outcomes["cancelled"]
    visitor = Client(server.local_url, verbose=False)
    big = write_small_photo(tmp_path / "big.jpg", grace_hopper, side=256)
    inputs = list(small_dream(big, steps=20, size=256))
    inputs[6] = 3  # octaves: 60 steps in all, seconds of work
    job = visitor.submit(*inputs, api_name="/dream")
    deadline = time.monotonic() + 60
    while not _job_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _job_threads(), "the dream never started"
    job.cancel()
    deadline = time.monotonic() + 30
    while _job_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _job_threads() and server.dreams.outcomes["cancelled"] == cancelled + 1
    result = Client(server.local_url, verbose=False).predict(*small_dream(photo), api_name="/dream")
    assert result[1].startswith("Done")


def _job_threads() -> list:
    return [thread for thread in threading.enumerate() if thread.name == "deepdream-job" and thread.is_alive()]


def test_old_outputs_are_removed(tmp_path):
    import os

    from deepdream.web.jobs import prune_outputs

    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "dream.png").write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    prune_outputs(tmp_path, 3600)
    assert not old.exists() and (new / "dream.png").exists()


@pytest.mark.parametrize("flags, message", [
    (["--auth", "nocolon"], "--auth must be USER:PASSWORD"),
    (["photo.jpg"], "serve takes no INPUT"),
    (["--max-steps", "0"], "--max-steps must be at least 1"),
])
def test_serve_flags_are_checked_before_serving(flags, message, capsys):
    assert main(["serve", *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("deepdream: error:") and message in error and "\n" not in error


def test_engines_are_built_once_and_the_least_recent_dropped():
    from deepdream.web.engines import EngineCache

    cache = EngineCache(size=2)
    built = []

    def build(name):
        built.append(name)
        return object()

    first = cache.get("a", lambda: build("a"))
    assert cache.get("a", lambda: build("a")) is first
    cache.get("b", lambda: build("b"))
    cache.get("a", lambda: build("a"))
    cache.get("c", lambda: build("c"))
    assert built == ["a", "b", "c"] and cache.keys() == ["a", "c"]


def test_auth_keeps_strangers_out():
    import httpx

    with running_server(auth="ada:lovelace", weights=None) as demo:
        url = demo.local_url.rstrip("/")
        assert httpx.get(f"{url}/config", timeout=10).status_code == 401
        session = httpx.Client()
        assert session.post(f"{url}/login", data={"username": "ada", "password": "lovelace"},
                            timeout=10).status_code == 200
        assert session.get(f"{url}/config", timeout=10).status_code == 200


def test_an_uploaded_clip_shows_its_shots(client, tmp_path):
    import skimage.data
    from video_clips import panning_shots, write_frames_clip

    frames = panning_shots([skimage.data.rocket(), skimage.data.cat()], 3, 96, 80)  # a cut at frame 3
    clip = write_frames_clip(tmp_path / "cut.mp4", frames)
    table = client.predict(handle_file(str(clip)), MAX_FRAMES, api_name="/shots")
    assert table["data"] == [[0, 2, 3], [3, 3, 1]]  # the first MAX_FRAMES frames, as the Video tab dreams them
