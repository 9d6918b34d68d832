"""The dream engine: tiling, traces, determinism, objectives, octaves."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from deepdream import DeepDream, octave_shapes, parse_layer_spec
from deepdream.normalization import laplacian_normalize
from deepdream.tiling import tiled_gradient


@pytest.fixture(scope="module")
def random_dreamer():
    keras.utils.set_random_seed(0)
    return DeepDream("mixed3", weights=None, tile_size=192)


@pytest.fixture()
def small_photo(grace_hopper):
    from inception_keras.images import resize_image

    return resize_image(grace_hopper, 200, 170)


def _as_input(image: np.ndarray):
    return keras.ops.convert_to_tensor(image[None].astype("float32") / 127.5 - 1.0)


@pytest.mark.parametrize("height, width, tile, margin", [(300, 300, 192, 32), (97, 413, 160, 16), (75, 75, 256, 64)])
def test_tile_cores_cover_every_pixel_exactly_once(height, width, tile, margin):
    image = keras.ops.convert_to_tensor(np.random.RandomState(0).rand(1, height, width, 3).astype("float32"))
    seen_shapes = set()

    def identity_gradient(tile_image):
        seen_shapes.add(tuple(tile_image.shape))
        return keras.ops.zeros(()), tile_image

    _, gradient = tiled_gradient(image, identity_gradient, tile, margin)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(gradient), keras.ops.convert_to_numpy(image))
    assert seen_shapes == {(1, tile, tile, 3)}


@pytest.mark.parametrize("layer, margin, expected", [("mixed0", 32, 0.99), ("mixed3", 64, 0.9)])
def test_tiled_and_whole_image_gradients_agree_away_from_tile_borders(small_photo, layer, margin, expected):
    keras.utils.set_random_seed(0)
    dreamer = DeepDream(layer, weights=None)
    image = _as_input(small_photo)
    _, whole = dreamer._gradient(image)
    _, tiled = tiled_gradient(image, dreamer._gradient, tile_size=96 + 2 * margin, margin=margin)
    whole, tiled = (keras.ops.convert_to_numpy(g)[0] for g in (whole, tiled))
    away = np.zeros(whole.shape[:2], bool)
    away[16:-16, 16:-16] = True
    for edge in range(96, 200, 96):
        away[edge - 16: edge + 16, :] = False
    for edge in range(96, 170, 96):
        away[:, edge - 16: edge + 16] = False
    correlation = np.corrcoef(whole[away].ravel(), tiled[away].ravel())[0, 1]
    assert correlation > expected, correlation


def test_one_trace_serves_all_octaves_sizes_and_tiles(small_photo):
    dreamer = DeepDream("mixed2", weights=None, tile_size=160, whole_image_pixels=150 * 150)
    dreamer.dream(small_photo, octaves=3, steps=1)
    dreamer.dream(small_photo[:120, :150], octaves=2, steps=1)
    assert dreamer.trace_count == 1


def test_loss_rises_and_output_keeps_size(random_dreamer, small_photo):
    losses = []
    result = random_dreamer.dream(small_photo, octaves=1, steps=8, step_size=0.02,
                                  on_octave=lambda i, n, loss: losses.append(loss))
    before = float(keras.ops.convert_to_numpy(random_dreamer.gradient(_as_input(small_photo))[0]))
    after = float(keras.ops.convert_to_numpy(random_dreamer.gradient(_as_input(result))[0]))
    assert result.shape == small_photo.shape and result.dtype == np.uint8
    assert after > before * 1.2
    assert len(losses) == 1


def test_same_seed_same_output(random_dreamer, small_photo):
    first = random_dreamer.dream(small_photo, octaves=2, steps=3, seed=7)
    second = random_dreamer.dream(small_photo, octaves=2, steps=3, seed=7)
    other = random_dreamer.dream(small_photo, octaves=2, steps=3, seed=8)
    np.testing.assert_array_equal(first, second)
    assert (first != other).any()


def test_channel_guide_and_lapnorm_objectives_ascend(small_photo, grace_hopper):
    keras.utils.set_random_seed(0)
    probe = DeepDream("mixed3", weights=None)
    activation = keras.ops.convert_to_numpy(probe.extractor(_as_input(small_photo))["mixed3"])
    live_channel = int(activation.mean(axis=(0, 1, 2)).argmax())
    keras.utils.set_random_seed(0)
    for dreamer, options in [
        (DeepDream("mixed3", weights=None, channel=live_channel), {}),
        (DeepDream("mixed3", weights=None, guide=grace_hopper[::4, ::4]), {}),
        (DeepDream("mixed3", weights=None), {"lapnorm": True}),
        (DeepDream("mixed3", weights=None, precision="bfloat16"), {}),
    ]:
        before = float(keras.ops.convert_to_numpy(dreamer.gradient(_as_input(small_photo))[0]))
        result = dreamer.dream(small_photo, octaves=1, steps=6, step_size=0.02, **options)
        after = float(keras.ops.convert_to_numpy(dreamer.gradient(_as_input(result))[0]))
        assert after > before, (dreamer.terms, options)


def test_laplacian_normalisation_keeps_shape_and_unit_scale():
    gradient = keras.ops.convert_to_tensor(np.random.RandomState(1).randn(1, 101, 77, 3).astype("float32"))
    normalized = keras.ops.convert_to_numpy(laplacian_normalize(gradient))
    assert normalized.shape == (1, 101, 77, 3)
    assert np.abs(normalized).mean() == pytest.approx(1.0, rel=1e-4)


def test_octave_count_is_capped_with_a_warning():
    assert octave_shapes(640, 960, 3, 1.4) == [(327, 490), (457, 686), (640, 960)]
    with pytest.warns(UserWarning, match="instead of 8"):
        shapes = octave_shapes(200, 300, 8, 1.4)
    assert min(shapes[0]) >= 75 and shapes[-1] == (200, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        octave_shapes(200, 300, 2, 1.4)


@pytest.mark.parametrize("spec, message", [("mixed4:abc", "Bad layer term"), (",", "No layer"), ("mixed4:inf", "finite")])
def test_bad_layer_specs_are_explained(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_layer_spec(spec)


def test_layer_spec_accepts_weights_lists_and_aliases():
    terms = parse_layer_spec(["mixed4:1.0,Mixed_6c:1.5", "mixed3"])
    assert [(t.layer, t.weight) for t in terms] == [("mixed4", 1.0), ("Mixed_6c", 1.5), ("mixed3", 1.0)]
    dreamer = DeepDream(terms, weights=None)
    assert [t.layer for t in dreamer.terms] == ["mixed4", "mixed5", "mixed3"]


def test_bfloat16_dreams_as_strongly_as_float32(trained_weights_path, grace_hopper):
    from inception_keras.images import resize_image

    photo = resize_image(grace_hopper, 240, 200)
    options = dict(octaves=2, steps=6, seed=0)
    gains = {}
    float32_engine = DeepDream("mixed4", weights=str(trained_weights_path))
    for precision in ("float32", "bfloat16"):
        engine = DeepDream("mixed4", weights=str(trained_weights_path), precision=precision)
        dreamed = engine.dream(photo, **options)
        before, after = (float(float32_engine.gradient(_as_input(image))[0]) for image in (photo, dreamed))
        gains[precision] = after / before
    assert gains["float32"] > 1.5
    assert 0.85 < gains["bfloat16"] / gains["float32"] < 1.15, gains
