"""The "imagenet" download path, for real, against an HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading

import pytest

import inception_keras as ik
from inception_keras import weights as weights_lib


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture()
def mirror(tmp_path):
    """(base URL, served folder, list of requested paths) of a loopback server."""
    served = tmp_path / "served"
    served.mkdir()
    _CountingHandler.requests = []
    handler = functools.partial(_CountingHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served, _CountingHandler.requests
    server.shutdown()
    server.server_close()


@pytest.fixture()
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def _publish(reference_file, served, monkeypatch, recorded_md5=None):
    """Serves `reference_file` under the official no-top name, with its md5 as the official one."""
    file_name = weights_lib.IMAGENET_WEIGHTS[False][0]
    shutil.copy(reference_file, served / file_name)
    md5 = recorded_md5 or hashlib.md5((served / file_name).read_bytes()).hexdigest()
    monkeypatch.setitem(weights_lib.IMAGENET_WEIGHTS, False, (file_name, md5))
    return file_name


def test_download_is_verified_cached_and_loaded(reference_notop, mirror, keras_home, monkeypatch):
    base_url, served, requests = mirror
    file_name = _publish(reference_notop[1], served, monkeypatch)

    model = ik.InceptionV3(include_top=False, weights="imagenet", weights_mirror=base_url)
    assert requests == [f"/{file_name}"]
    assert (keras_home / "models" / file_name).is_file()
    first_kernel = reference_notop[0].layers[1].get_weights()[0]
    assert (model.get_layer("stem_1a_conv").get_weights()[0] == first_kernel).all()

    monkeypatch.setenv(weights_lib.MIRROR_ENV_VAR, base_url)
    ik.InceptionV3(include_top=False, weights="imagenet")
    assert len(requests) == 1, "the second build must come from the cache"


def test_corrupted_download_is_rejected_and_not_cached(reference_notop, mirror, keras_home, monkeypatch):
    base_url, served, requests = mirror
    file_name = _publish(reference_notop[1], served, monkeypatch, recorded_md5="0" * 32)
    with pytest.raises(ValueError, match="corrupt"):
        ik.InceptionV3(include_top=False, weights="imagenet", weights_mirror=base_url)
    assert requests == [f"/{file_name}"]
    assert not (keras_home / "models" / file_name).exists()


def test_unreachable_mirror_names_the_environment_variable(mirror, keras_home):
    base_url, _, _ = mirror
    with pytest.raises(ValueError, match="INCEPTION_KERAS_WEIGHTS_MIRROR"):
        ik.InceptionV3(include_top=False, weights="imagenet", weights_mirror=base_url + "missing/")
