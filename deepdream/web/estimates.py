"""The estimate beside the Dream button: the plan (`deepdream.plan`) of the Photo tab's photo and controls.

`photo_estimate` is what the page calls when the photo or a control
changes; `wire` creates nothing, it only connects those changes to the
Markdown that shows the estimate. The engine is the page's own (built once,
`Dreams.engine`), the calibration is cached on disk, so an estimate costs
milliseconds once the first is made.
"""

from __future__ import annotations

import logging

from deepdream import plan

LOG = logging.getLogger("deepdream.web")
ESTIMATE_QUEUE = "estimate"


def photo_estimate(dreams, path, *controls) -> str:
    """One line: the estimated time and peak memory of dreaming `path` with the Photo tab's `controls`.

    `controls` are those `Dreams.photo` takes; an empty string without a
    photo, and a short note where the controls cannot be dreamed.
    """
    if path is None:
        return ""
    try:
        engine, dream = dreams.options(*controls)
        width, height = dreams.limits.image_size(path)
        estimated = plan.plan_dream(engine, dream, height, width, dreamer=dreams.engine(engine))
    except ValueError as error:
        return f"Estimate: not available ({' '.join(str(error).split())})"
    (last_width, last_height), tiles = estimated.octaves[-1], estimated.tiles[-1]
    pieces = f"{tiles} tiles" if tiles > 1 else "whole"
    return (f"Estimate: about {plan.format_seconds(estimated.seconds)}, peak memory "
            f"{plan.format_bytes(estimated.peak_memory_bytes)} ({len(estimated.octaves)} octaves up to "
            f"{last_width}x{last_height}, {pieces}; {estimated.device})")


def wire(dreams, photo, controls: list, shown) -> None:
    """Updates the Markdown `shown` with `photo_estimate` whenever the photo or one of `controls` changes."""
    inputs = [photo, *controls]

    def estimate(path, *values):
        try:
            return photo_estimate(dreams, path, *values)
        except Exception as error:  # an estimate never breaks the page
            LOG.warning("estimate failed: %s", error)
            return ""

    for component in inputs:
        component.change(estimate, inputs, shown, concurrency_id=ESTIMATE_QUEUE, concurrency_limit=1,
                         show_progress="hidden", api_visibility="private")
