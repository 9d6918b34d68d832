"""A `python -m deepdream serve` page started in-process on a free loopback port, for the web tests."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import os
import socket
import threading
import time
import uuid
from typing import Iterator

import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(**config) -> Iterator:
    """Yields the launched `gradio.Blocks` (`.local_url`, `.dreams`); closes it afterwards.

    `config` holds fields of `ServeOptions` (the limits, `auth`) and of
    `ServerConfig` (`weights`, `precision`, `output_dir`); the server listens
    on a free loopback port.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from deepdream.options import ServeOptions
    from deepdream.web import ServerConfig, launch

    serve_fields = {field.name for field in dataclasses.fields(ServeOptions)}
    serve = ServeOptions(host="127.0.0.1", port=free_port(),
                         **{name: value for name, value in config.items() if name in serve_fields})
    server = {name: value for name, value in config.items() if name not in serve_fields}
    demo = launch(ServerConfig(serve=serve, **server), block=False, quiet=True)
    try:
        yield demo
    finally:
        demo.close()
        demo.dreams.close()  # at once, whether or not Gradio's own end finished in its 5 s


def write_small_photo(path, photo: np.ndarray, side: int = 120) -> str:
    """`photo` downscaled so its longer side is `side`, as a JPEG at `path`."""
    image = Image.fromarray(photo)
    image.thumbnail((side, side))
    image.save(path, quality=92)
    return str(path)


class CameraStream:
    """A Live camera visitor without a browser: Gradio's stream protocol over HTTP, as the page's script speaks it.

    Joins the page's stream event with a first frame, reads the server's
    messages on a thread (`answers`: the dreams sent back, `notes`: the
    text beside them, `errors`: an error that ended it), sends further frames with `send`, and ends with
    `close` (the visitor stops the camera) or `leave` (the connections are
    dropped without a word, as a closed laptop does). `heartbeat` keeps the
    connection a browser keeps open while its tab lives. Every wait is bounded.
    """

    def __init__(self, url: str, frame: bytes, heartbeat: bool = True, timeout_s: float = 60):
        import httpx

        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.http = httpx.Client(timeout=timeout_s)
        config = self.http.get(f"{self.url}/config").json()
        event = next(item for item in config["dependencies"] if any(kind == "stream" for _, kind in item["targets"]))
        values = {component["id"]: component.get("props", {}).get("value") for component in config["components"]}
        self.fn_index, self.trigger_id = event["id"], event["targets"][0][0]
        self.inputs = [values.get(block) for block in event["inputs"]]
        self.session = uuid.uuid4().hex[:11]
        self.answers: list = []
        self.notes: list[str] = []
        self.messages: list[str] = []
        self.errors: list[str] = []
        self.answered_at: list[float] = []  # time.monotonic() of each answer
        self._listening = [httpx.Client(timeout=httpx.Timeout(timeout_s, read=timeout_s))]
        if heartbeat:
            self._listen(f"{self.url}/gradio_api/heartbeat/{self.session}", keep=False)
        self.event_id = self.http.post(f"{self.url}/gradio_api/queue/join", json={
            **self._body(frame), "trigger_id": self.trigger_id}).json()["event_id"]
        self._listen(f"{self.url}/gradio_api/queue/data?session_hash={self.session}", keep=True)

    def send(self, frame: bytes) -> None:
        """Posts one more camera frame (a JPEG's bytes)."""
        self.http.post(f"{self.url}/gradio_api/stream/{self.event_id}", json=self._body(frame))

    def wait_for(self, count: int, timeout_s: float = 60) -> bool:
        """Waits until `count` answers (dreams or notes) came back; returns whether they did."""
        deadline = time.monotonic() + timeout_s
        while len(self.notes) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.notes) >= count

    def close(self) -> None:
        """Stops the camera as the page's button does."""
        self.http.post(f"{self.url}/gradio_api/stream/{self.event_id}/close")
        self.leave()

    def leave(self) -> None:
        """Drops every connection without telling the server."""
        for client in self._listening:
            client.close()
        self.http.close()

    def _body(self, frame: bytes) -> dict:
        image = {"url": "data:image/jpeg;base64," + base64.b64encode(frame).decode()}
        return {"data": [image, *self.inputs[1:]], "event_data": None, "fn_index": self.fn_index,
                "session_hash": self.session}

    def _listen(self, url: str, keep: bool) -> None:
        import httpx

        client = httpx.Client(timeout=httpx.Timeout(self.timeout_s, read=self.timeout_s))
        self._listening.append(client)

        def read() -> None:
            try:
                with client.stream("GET", url) as response:
                    for line in response.iter_lines():
                        if keep and line.startswith("data: "):
                            self._note(json.loads(line[len("data: "):]))
            except (httpx.HTTPError, RuntimeError):
                pass  # dropped by `leave`, or by the server at its end

        threading.Thread(target=read, daemon=True, name="camera-stream").start()

    def _note(self, message: dict) -> None:
        self.messages.append(message.get("msg", ""))
        output = message.get("output") or {}
        if output.get("error"):
            self.errors.append(output["error"])
        if message.get("msg") in ("process_streaming", "process_generating", "process_completed") and "data" in output:
            data = output["data"]
            self.answered_at.append(time.monotonic())
            self.answers.append(data[0])
            self.notes.append(data[-1] if isinstance(data[-1], str) else "")


def camera_frame(side: tuple[int, int] = (96, 80), color=(200, 120, 40)) -> bytes:
    """A JPEG camera frame of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", side, color).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
