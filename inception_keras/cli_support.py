"""What every command line tool of the project shares: one-line errors and exit codes.

User errors (`ValueError`, bad arguments) end with one line on stderr and exit
status 2; Ctrl-C ends with status 130; a closed pipe (`... | head`) ends
quietly with status 141, as a shell's SIGPIPE would; `--debug` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Callable

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE


class UsageError(Exception):
    """Raised by `OneLineParser` instead of printing usage and exiting."""


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors raise `UsageError` instead of exiting."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows `(default: ...)` only for options whose default is a value, not None or a flag."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def quiet_backend_logs() -> None:
    """Imports Keras with its backend's C++ start-up chatter kept off stderr.

    TensorFlow logs through absl before any log level can be set, so file
    descriptor 2 is pointed at /dev/null while the backend loads.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices()
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)


def run_command(prog: str, command: Callable[[], int], debug: bool) -> int:
    """Runs `command`, turning user errors into one stderr line and an exit code.

    Python warnings (a skipped image, a capped octave count) print as one
    `prog: warning: ...` line each.
    """
    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            return command()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout has gone; point stdout at /dev/null so Python's final flush stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (ValueError, FileNotFoundError, UsageError) as error:
        if debug:
            raise
        message = " ".join(str(error).split())
        print(f"{prog}: error: {message}", file=sys.stderr)
        return EXIT_USAGE


def parse_args(parser: argparse.ArgumentParser, argv) -> tuple[argparse.Namespace | None, int]:
    """Parses `argv`; on a bad argument prints one line and returns exit status 2."""
    try:
        return parser.parse_args(argv), EXIT_OK
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return None, EXIT_USAGE
    except SystemExit as stop:  # --help and --version
        return None, int(stop.code or 0)
