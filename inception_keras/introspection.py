"""What the network is made of, as data: layer tables, tap points, feature extractors."""

from __future__ import annotations

import dataclasses
from typing import Iterable

import keras

from inception_keras.names import resolve_layer_name

CONV_TYPES = ("Conv2D",)
POOL_TYPES = ("MaxPooling2D", "AveragePooling2D")


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """One row of the layer table."""

    name: str
    type: str
    kernel_size: tuple[int, int] | None
    strides: tuple[int, int] | None
    padding: str | None
    output_shape: tuple[int | None, ...]
    params: int

    def as_dict(self) -> dict:
        """Returns the row as JSON-ready data."""
        row = dataclasses.asdict(self)
        for key in ("kernel_size", "strides", "output_shape"):
            row[key] = list(row[key]) if row[key] is not None else None
        return row


@dataclasses.dataclass(frozen=True)
class TapPoint:
    """A `mixed*` block output usable as a feature or dream layer."""

    name: str
    channels: int
    stride: int
    receptive_field: int
    output_shape: tuple[int | None, ...]

    def as_dict(self) -> dict:
        """Returns the tap point as JSON-ready data."""
        row = dataclasses.asdict(self)
        row["output_shape"] = list(row["output_shape"])
        return row


def build_for_size(height: int, width: int) -> keras.Model:
    """Builds the conv base (random weights) for an input of `height` x `width`."""
    from inception_keras.inception_v3 import InceptionV3

    return InceptionV3(include_top=False, weights=None, input_shape=(height, width, 3))


def layer_table(model: keras.Model, conv_only: bool = False, mixed_only: bool = False) -> list[LayerInfo]:
    """Describes each layer of `model` in model order.

    Args:
        model: an Inception-v3 (or any functional) model.
        conv_only: keep only `Conv2D` layers. Defaults to `False`.
        mixed_only: keep only the `mixed*` tap points. Defaults to `False`.

    Returns:
        A list of `LayerInfo`; output shapes have no batch dimension.
    """
    tap_names = {point.name for point in _tap_layers(model)}
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if conv_only and kind not in CONV_TYPES:
            continue
        if mixed_only and layer.name not in tap_names:
            continue
        kernel, strides = _kernel_and_strides(layer)
        rows.append(
            LayerInfo(
                name=layer.name,
                type=kind,
                kernel_size=kernel,
                strides=strides,
                padding=getattr(layer, "padding", None),
                output_shape=tuple(layer.output.shape[1:]),
                params=int(layer.count_params()) if layer.weights else 0,
            )
        )
    return rows


def conv_layer_shapes(model: keras.Model) -> dict[str, tuple[int | None, ...]]:
    """Returns {conv layer name: output shape without batch} in model order."""
    return {row.name: row.output_shape for row in layer_table(model, conv_only=True)}


def tap_points(model: keras.Model) -> list[TapPoint]:
    """Returns the `mixed*` tap points with channels, stride and receptive field.

    Stride and receptive field are computed by walking the graph, composing
    kernel sizes and strides along every path (the largest receptive field
    over paths is reported), not typed in.
    """
    fields = _receptive_fields(model)
    points = []
    for layer in _tap_layers(model):
        field, jump = fields[layer.name]
        shape = tuple(layer.output.shape[1:])
        points.append(TapPoint(layer.name, int(shape[-1]), jump, field, shape))
    return points


def feature_extractor(model: keras.Model, layer_names: str | Iterable[str]) -> keras.Model:
    """Returns a `keras.Model` mapping the input to {name: activation}.

    Args:
        model: the source model; weights are shared, not copied.
        layer_names: one name or several; TF-slim/torchvision aliases such
            as `Mixed_6b` are accepted and returned under the name given.

    Raises:
        ValueError: a name is unknown (the message lists the closest ones).
    """
    if isinstance(layer_names, str):
        layer_names = [layer_names]
    outputs = {name: model.get_layer(resolve_layer_name(model, name)).output for name in layer_names}
    if not outputs:
        raise ValueError("`layer_names` is empty: name at least one layer, e.g. 'mixed4'.")
    return keras.Model(model.inputs, outputs, name=f"{model.name}_features")


def _tap_layers(model: keras.Model) -> list:
    return [
        layer for layer in model.layers
        if layer.name.startswith("mixed") and "_" not in layer.name
    ]


def _kernel_and_strides(layer) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    strides = getattr(layer, "strides", None)
    return (tuple(kernel) if kernel else None, tuple(strides) if strides else None)


def _inbound_layers(layer) -> list:
    node = layer._inbound_nodes[0]
    return [tensor._keras_history.operation for tensor in node.input_tensors]


def _receptive_fields(model: keras.Model) -> dict[str, tuple[int, int]]:
    """Returns {layer name: (receptive field, jump)} along the height axis."""
    fields: dict[str, tuple[int, int]] = {}
    for layer in model.layers:
        inbound = _inbound_layers(layer) if layer._inbound_nodes else []
        if not inbound or not any(inbound_layer.name in fields for inbound_layer in inbound):
            fields[layer.name] = (1, 1)
            continue
        field = max(fields[inbound_layer.name][0] for inbound_layer in inbound)
        jump = max(fields[inbound_layer.name][1] for inbound_layer in inbound)
        kernel, strides = _kernel_and_strides(layer)
        if kernel is not None:
            field += (kernel[0] - 1) * jump
            jump *= strides[0] if strides else 1
        fields[layer.name] = (field, jump)
    return fields
