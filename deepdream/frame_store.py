"""Finished frames of a long job, kept in a work folder beside its output so the job can resume.

`<output>.frames/` holds `settings.json` (what the job was started with) and
one lossless PNG per finished frame. A job that is interrupted (Ctrl-C, a
crash) leaves the folder; the same command with `--resume` reads the finished
frames back and dreams only the rest. The folder is removed once the output
is written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np

from inception_keras.files import atomic_path

SETTINGS_FILE = "settings.json"
FRAME_NAME = "frame_{:06d}.png"
# zlib level 1: a 1280x720 frame in tens of milliseconds, not hundreds.
PNG_COMPRESSION = 1


class FrameStore:
    """The work folder of one output file.

    Args:
        output: the file the job writes.
        settings: plain data (JSON) that must match for frames to be reused:
            the input and every option that changes a frame.
    """

    def __init__(self, output, settings: dict):
        output = Path(output)
        self.folder = output.with_name(output.name + ".frames")
        self.settings = json.loads(json.dumps(settings))

    def open(self, resume: bool) -> int:
        """Creates the folder, or checks the one an earlier run left; returns how many frames are finished.

        Raises:
            ValueError: a folder exists and `resume` is false, or it was
                made with other settings.
        """
        settings_path = self.folder / SETTINGS_FILE
        if self.folder.exists():
            if not resume:
                raise ValueError(
                    f"{self.folder} holds the frames of an unfinished run: add --resume to continue it, "
                    "or delete that folder to start over."
                )
            try:
                saved = json.loads(settings_path.read_text())
            except (OSError, ValueError):
                saved = None
            if saved != self.settings:
                changed = sorted(k for k in set(self.settings) | set(saved or {})
                                 if (saved or {}).get(k) != self.settings.get(k))
                raise ValueError(
                    f"{self.folder} was started with other settings ({', '.join(changed)}): "
                    "resume with the same command, or delete that folder to start over."
                )
            return self.finished()
        self.folder.mkdir()
        with atomic_path(settings_path) as temp_path:
            temp_path.write_text(json.dumps(self.settings, indent=1, sort_keys=True))
        return 0

    def finished(self) -> int:
        """The number of frames finished in a row from the first."""
        count = 0
        while (self.folder / FRAME_NAME.format(count)).is_file():
            count += 1
        return count

    def finished_frames(self) -> set[int]:
        """The indices of every finished frame (a clip's shots finish out of order)."""
        prefix, suffix = FRAME_NAME.split("{")[0], FRAME_NAME.rsplit("}")[-1]
        return {int(path.name[len(prefix):-len(suffix)]) for path in self.folder.glob(prefix + "*" + suffix)
                if path.name[len(prefix):-len(suffix)].isdigit()}

    def save(self, index: int, frame: np.ndarray) -> None:
        """Stores finished frame `index` (uint8 RGB) atomically."""
        with atomic_path(self.folder / FRAME_NAME.format(index)) as temp_path:
            if not cv2.imwrite(str(temp_path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION]):
                raise ValueError(f"Cannot write a frame into {self.folder} (disk full or read-only?).")

    def load(self, index: int) -> np.ndarray:
        """Reads finished frame `index` back as uint8 RGB."""
        path = self.folder / FRAME_NAME.format(index)
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"A stored frame is unreadable: {path}; delete {self.folder} to start over.")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def remove(self) -> None:
        """Deletes the work folder (after the output is written)."""
        shutil.rmtree(self.folder, ignore_errors=True)
