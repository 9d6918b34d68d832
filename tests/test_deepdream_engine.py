"""The dream engine: tiling, traces, determinism, objectives, octaves."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from deepdream import DeepDream, LayerTerm, octave_shapes, parse_layer_spec
from deepdream.ascent import draw_shifts
from deepdream.normalization import laplacian_normalize
from deepdream.tiling import tiled_gradient


@pytest.fixture(scope="module")
def random_dreamer():
    keras.utils.set_random_seed(0)
    return DeepDream("mixed3", weights=None, tile_size=192)


@pytest.fixture(scope="module")
def mixed2_dreamer():
    """The model of the in-place and tensor-path comparisons; each test takes its own tiles and limit."""
    keras.utils.set_random_seed(0)
    return DeepDream("mixed2", weights=None)


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
def test_tiled_and_whole_image_gradients_agree_away_from_tile_borders(random_dreamer, small_photo, layer, margin,
                                                                      expected):
    dreamer = random_dreamer.with_terms([LayerTerm(layer)])
    image = _as_input(small_photo)
    _, whole = dreamer.ascent.compiled_gradient(image)
    _, tiled = tiled_gradient(image, dreamer.ascent.compiled_gradient, tile_size=96 + 2 * margin, margin=margin)
    whole, tiled = (keras.ops.convert_to_numpy(g)[0] for g in (whole, tiled))
    away = np.zeros(whole.shape[:2], bool)
    away[16:-16, 16:-16] = True
    for edge in range(96, 200, 96):
        away[edge - 16: edge + 16, :] = False
    for edge in range(96, 170, 96):
        away[:, edge - 16: edge + 16] = False
    correlation = np.corrcoef(whole[away].ravel(), tiled[away].ravel())[0, 1]
    assert correlation > expected, correlation


def test_one_trace_serves_all_octaves_sizes_and_tiles(mixed2_dreamer, small_photo):
    dreamer = mixed2_dreamer.with_ascent(tile_size=160, whole_image_pixels=150 * 150)
    dreamer.dream(small_photo, octaves=3, steps=1)
    dreamer.dream(small_photo[:120, :150], octaves=2, steps=1)
    # One trace of the tile gradient (the first dream is above the whole-image limit) and one of the
    # device loop's octave program (the second is not), each serving every size.
    assert dreamer.trace_count == 2


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


def _objective_dreamer(objective, random_dreamer, small_photo, grace_hopper):
    """`(dreamer, dream options)` of one objective on mixed3: the random dreamer's model where it can be shared."""
    if objective == "channel":
        activation = keras.ops.convert_to_numpy(random_dreamer.extractor(_as_input(small_photo))["mixed3"])
        live_channel = int(activation.mean(axis=(0, 1, 2)).argmax())
        return random_dreamer.with_terms([LayerTerm("mixed3", 1.0, live_channel)]), {}
    if objective == "lapnorm":
        return random_dreamer, {"lapnorm": True}
    keras.utils.set_random_seed(0)
    if objective == "guide":
        return DeepDream("mixed3", weights=None, guide=grace_hopper[::4, ::4]), {}
    return DeepDream("mixed3", weights=None, precision="bfloat16"), {}


@pytest.mark.parametrize("objective", ["channel", "guide", "lapnorm", "bfloat16"])
def test_channel_guide_and_lapnorm_objectives_ascend(random_dreamer, small_photo, grace_hopper, objective):
    dreamer, options = _objective_dreamer(objective, random_dreamer, small_photo, grace_hopper)
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


@pytest.mark.parametrize("spec, message", [("mixed4:abc", "Bad layer term"), (",", "No layer"),
                                           ("mixed4:inf", "a number from -10000 to 10000"),
                                           ("mixed4:1e39", "a number from")])
def test_bad_layer_specs_are_explained(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_layer_spec(spec)


def test_layer_spec_accepts_weights_lists_and_aliases():
    terms = parse_layer_spec(["mixed4:1.0,Mixed_6c:1.5", "mixed3"])
    assert [(t.layer, t.weight) for t in terms] == [("mixed4", 1.0), ("Mixed_6c", 1.5), ("mixed3", 1.0)]
    dreamer = DeepDream(terms, weights=None)
    assert [t.layer for t in dreamer.terms] == ["mixed4", "mixed5", "mixed3"]


@pytest.mark.slow  # ~11 s: bfloat16 on a CPU
def test_bfloat16_dreams_as_strongly_as_float32(trained_weights_path, grace_hopper):
    from inception_keras.images import resize_image

    photo = resize_image(grace_hopper, 240, 200)
    options = dict(octaves=2, steps=6, seed=0)
    gains = {}
    float32_engine = DeepDream("mixed4", weights=str(trained_weights_path))
    for precision in ("float32", "bfloat16"):
        engine = float32_engine if precision == "float32" else DeepDream(
            "mixed4", weights=str(trained_weights_path), precision=precision)
        dreamed = engine.dream(photo, **options)
        before, after = (float(float32_engine.gradient(_as_input(image))[0]) for image in (photo, dreamed))
        gains[precision] = after / before
    assert gains["float32"] > 1.5
    assert 0.85 < gains["bfloat16"] / gains["float32"] < 1.15, gains


@pytest.mark.parametrize("height, width, tile, margin, shift", [
    (300, 300, 192, 32, (17, -29)), (97, 413, 160, 16, (-5, 40)), (75, 75, 256, 64, (3, 3)), (80, 90, 139, 32, (0, 0)),
])
def test_roll_as_tile_grid_offset_equals_tiles_of_the_rolled_padded_image(height, width, tile, margin, shift):
    image = np.random.RandomState(0).rand(height, width, 3).astype("float32")
    core = tile - 2 * margin
    rows, cols = -(-height // core), -(-width // core)
    padded = np.pad(np.roll(image, shift, axis=(0, 1)),
                    [(margin, margin + rows * core - height), (margin, margin + cols * core - width), (0, 0)],
                    mode="symmetric")
    expected_tiles = [padded[r * core: r * core + tile, c * core: c * core + tile] for r in range(rows) for c in range(cols)]
    seen = []

    def recording_gradient(tile_image):
        seen.append(tile_image[0].copy())
        return np.float32(len(seen)), tile_image * 2.0

    out = np.full_like(image, np.nan)
    loss = tiled_gradient_with_shift(image, recording_gradient, tile, margin, shift, out)
    assert len(seen) == len(expected_tiles) and loss == np.mean(np.arange(1, len(seen) + 1))
    for got, expected in zip(seen, expected_tiles):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(out, image * 2.0)  # every pixel's gradient lands where it came from


def tiled_gradient_with_shift(image, gradient_fn, tile, margin, shift, out):
    from deepdream.tiling import tile_grid_gradient

    return tile_grid_gradient(image, gradient_fn, tile, margin, shift, out)


def _tensor_path_dream(dreamer, image, octaves, steps, step_size=0.01, jitter=32, seed=0):
    """The engine's dream before the in-place pixel path: tensors, rolls, the general `ascend` loop."""
    from deepdream import transforms
    from deepdream.normalization import mean_abs_normalize
    from deepdream.parameterization import PixelImage

    rng = np.random.RandomState(seed)
    original = keras.ops.convert_to_tensor(image[None].astype("float32") / 127.5 - 1.0)
    detail = None
    for shape in octave_shapes(image.shape[0], image.shape[1], octaves, 1.4):
        base = keras.ops.image.resize(original, shape, interpolation="bilinear", antialias=True)
        detail = keras.ops.zeros_like(base) if detail is None else keras.ops.image.resize(detail, shape)
        parameters, _ = dreamer.ascend(PixelImage(base + detail), steps, step_size, transforms.jitter(jitter),
                                       mean_abs_normalize, rng)
        dreamed = parameters.image()
        detail = dreamed - base
    return np.clip((keras.ops.convert_to_numpy(dreamed[0]) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("tile_size, whole_image_pixels", [(512, 0), (512, 10**7), (160, 0)])
def test_in_place_pixel_dream_matches_the_tensor_path(mixed2_dreamer, small_photo, tile_size, whole_image_pixels):
    dreamer = mixed2_dreamer.with_ascent(tile_size=tile_size, whole_image_pixels=whole_image_pixels)
    ours = dreamer.dream(small_photo, octaves=2, steps=2, step_size=0.02).astype(int)
    reference = _tensor_path_dream(dreamer, small_photo, octaves=2, steps=2, step_size=0.02).astype(int)
    difference = np.abs(ours - reference)
    assert (ours != small_photo).mean() > 0.5
    if tile_size >= max(small_photo.shape[:2]) + 2 * 32:  # one tile, or whole: equal to float rounding
        assert difference.max() <= 1
    else:
        # Float rounding (a float64 mean-abs here, float32 there) can flip a max-pool or ReLU choice of
        # the random network at a few pixels, which then step differently and spread a little.
        assert (difference > 1).mean() < 0.005
    correlation = np.corrcoef((ours - small_photo).ravel(), (reference - small_photo).ravel())[0, 1]
    assert correlation > 0.999, correlation


def test_refine_matches_the_tensor_path(mixed2_dreamer, small_photo):
    from deepdream import transforms
    from deepdream.normalization import mean_abs_normalize
    from deepdream.parameterization import PixelImage

    dreamer = mixed2_dreamer.with_ascent(tile_size=160, whole_image_pixels=0)
    start = small_photo.astype("float32") + 0.25
    ours = dreamer.refine(start, steps=2, seed=3)
    parameters, _ = dreamer.ascend(PixelImage(start[None] / 127.5 - 1.0), 2, 0.01, transforms.jitter(32),
                                   mean_abs_normalize, np.random.RandomState(3))
    reference = (keras.ops.convert_to_numpy(parameters.image()[0]) + 1.0) * 127.5
    assert ours.dtype == np.float32 and np.abs(ours - start).max() > 1.0
    np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_on_step_counts_the_steps_of_all_octaves(random_dreamer, small_photo):
    calls = []
    random_dreamer.dream(small_photo, octaves=2, steps=3, on_step=lambda *args: calls.append(args))
    assert [(done, total) for done, total, _ in calls] == [(i, 6) for i in range(1, 7)]
    assert all(np.isfinite(loss) for _, _, loss in calls)


def test_a_tiled_step_allocates_no_image_sized_temporary(random_dreamer, small_photo):
    import tracemalloc

    from inception_keras.images import resize_image

    # A shallow objective: the step's buffers are tested, not the network; 192-pixel tiles, all on the host.
    dreamer = random_dreamer.with_terms([LayerTerm("stem_2a_relu")]).with_ascent(whole_image_pixels=0)
    image = resize_image(small_photo, 1200, 1020).astype("float32") / 127.5 - 1.0
    shifts = draw_shifts(np.random.RandomState(0), 1, 32)
    dreamer.ascent.run_on_host(image[:192, :192].copy(), shifts, 0.01, False)  # traces
    tracemalloc.start()
    dreamer.ascent.run_on_host(image, shifts, 0.01, False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The gradient buffer (one image), a band of 256 rows and tile-sized arrays; the tensor path held
    # five image-sized arrays at once (rolled image, padded image, gradient, normalised, updated).
    assert peak < 1.3 * image.nbytes, peak / image.nbytes
