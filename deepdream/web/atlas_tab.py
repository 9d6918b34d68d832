"""The page's atlas parts: a photo's top channels on the Photo tab, and an Atlas tab with `serve --atlas DIR`.

The top channels are `deepdream.atlas.photo_top_channels` of the visitor's
photo; each is shown by its atlas render (`OUT/<layer>/<NNNN>.png`) when the
server has an atlas that holds it, else by a small render made here. A click
on a channel, here or in the Atlas tab, dreams it on the photo.
"""

# No `from __future__ import annotations`: Gradio reads the `gr.SelectData` hint to hand the event in.
import dataclasses
import logging
from pathlib import Path

from deepdream.atlas import LAYER_TABLE, PHOTO_SIDE, channel_path, photo_top_channels
from deepdream.jobs import fit_max_side
from deepdream.options import ATLAS_LAYERS, RENDER_LAYER, DreamOptions

# A channel the atlas lacks is shown by a render this small and quick: one octave of a few steps.
SMALL_RENDER_SIDE = 80
SMALL_RENDER_STEPS = 10
TOP_CHANNELS = 8
LOG = logging.getLogger("deepdream.web")


@dataclasses.dataclass
class AtlasPanels:
    """The components `wire` connects: the Photo tab's top channels, and the Atlas tab's when there is one."""

    top_layer: object
    top_button: object
    top_cells: object
    atlas_layer: object | None = None
    atlas_cells: object | None = None


def top_channel_cells(dreams, photo, layer: str, atlas: str | None,
                      top: int = TOP_CHANNELS) -> list[tuple[object, str]]:
    """`[(thumbnail, "layer:channel · mean"), ...]` of the photo's strongest channels of `layer`.

    A thumbnail is the atlas's render (a path) when `atlas` holds it, else a
    small render (an array) of the server's network.
    """
    if photo is None:
        raise ValueError("Upload a photo first.")
    if layer not in ATLAS_LAYERS:
        raise ValueError(f"Choose one of mixed0..mixed10. Received: {layer!r}")
    image = fit_max_side(dreams.load_photo(photo), PHOTO_SIDE)
    renderer = dreams.renderer(dreams.config.engine(layers=layer))
    with dreams.turns.job():
        channels = photo_top_channels(image, layer, top, renderer=renderer)
        missing = [c for c, _ in channels if atlas is None or not channel_path(atlas, layer, c).is_file()]
        renders = dict(zip(missing, renderer.render_batch(
            missing, (SMALL_RENDER_SIDE, SMALL_RENDER_SIDE), octaves=1, steps=SMALL_RENDER_STEPS,
            step_size=DreamOptions.step_size))) if missing else {}
    return [(renders[c] if c in renders else str(channel_path(atlas, layer, c)), f"{layer}:{c} · {mean:.3g}")
            for c, mean in channels]


def atlas_cells(atlas: str, layer: str) -> list[tuple[str, str]]:
    """`[(render path, "layer:channel"), ...]` of every render the atlas holds for `layer`."""
    folder = Path(atlas) / layer
    paths = sorted(folder.glob("[0-9][0-9][0-9][0-9].png")) if folder.is_dir() else []
    return [(str(path), f"{layer}:{int(path.stem)}") for path in paths]


def atlas_layers(atlas: str) -> list[str]:
    """The layers the atlas holds renders of, in network order."""
    return [layer for layer in ATLAS_LAYERS if atlas_cells(atlas, layer)]


def build_panels(gr, atlas: str | None) -> AtlasPanels:
    """The Photo tab's top-channels accordion; call inside the Photo tab.

    Raises:
        ValueError: `atlas` is given and is not a folder.
    """
    if atlas is not None and not Path(atlas).is_dir():
        raise ValueError(f"--atlas {atlas} is not a folder; make one with python -m deepdream atlas -o FOLDER.")
    choices = [(f"{name} · {row.channels} channels", name) for name, row in LAYER_TABLE.items()]
    with gr.Accordion("The channels this photo excites most", open=False):
        with gr.Row():
            layer = gr.Dropdown(choices, value=RENDER_LAYER, label="Layer", elem_id="top_layer", scale=2)
            button = gr.Button("Find its top channels", elem_id="top_button", scale=1)
        cells = gr.Gallery(label="Strongest first (mean activation): click one to dream it on the photo",
                           columns=TOP_CHANNELS, rows=1, height=190, allow_preview=False, elem_id="top_cells")
    return AtlasPanels(layer, button, cells)


def build_atlas_tab(gr, panels: AtlasPanels, atlas: str) -> None:
    """The Atlas tab (call inside the page's `gr.Tabs`): a layer's grid of renders."""
    layers = atlas_layers(atlas) or [RENDER_LAYER]
    with gr.Tab("Atlas", id="atlas"):
        panels.atlas_layer = gr.Dropdown(layers, value=layers[0], label="Layer", elem_id="atlas_layer")
        panels.atlas_cells = gr.Gallery(atlas_cells(atlas, layers[0]), label="Click a channel to dream it on "
                                        "the Photo tab's photo", columns=10, allow_preview=False,
                                        elem_id="atlas_cells")


def wire(gr, panels: AtlasPanels, dreams, atlas: str | None, photo, chosen_outputs: list, device: str):
    """Connects the panels; returns the events of a chosen channel, for the caller to `.then(dream)`.

    `chosen_outputs` are the Photo tab's layers, layer weights and channel
    and the tabs: a chosen channel sets them and brings the Photo tab up.
    """

    def find(path, layer):
        try:
            return top_channel_cells(dreams, path, layer, atlas)
        except ValueError as error:
            LOG.warning("visitor error: %s", error)
            raise gr.Error(" ".join(str(error).split()), print_exception=False) from None

    def chosen(_layer, event: gr.SelectData):  # the caption names the layer
        label = event.value.get("caption") if isinstance(event.value, dict) else None
        layer, _, channel = (label or "").split(" ")[0].partition(":")
        return [layer], "1.0", int(channel), gr.Tabs(selected="photo")

    panels.top_button.click(find, [photo, panels.top_layer], panels.top_cells, api_name="top_channels",
                            concurrency_id=device)
    events = [panels.top_cells.select(chosen, panels.top_layer, chosen_outputs, queue=False, api_visibility="private")]
    if panels.atlas_layer is not None:
        panels.atlas_layer.change(lambda layer: atlas_cells(atlas, layer), panels.atlas_layer, panels.atlas_cells,
                                  queue=False, api_visibility="private")
        events.append(panels.atlas_cells.select(chosen, panels.atlas_layer, chosen_outputs, queue=False,
                                                api_visibility="private"))
    return events

