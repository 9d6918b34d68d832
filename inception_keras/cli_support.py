"""What every command line tool of the project shares: one-line errors and exit codes.

User errors (`ValueError`, bad arguments) and failed writes (a full disk, a
read-only folder) end with one line on stderr and exit status 2; Ctrl-C ends
with status 130, SIGTERM and SIGHUP (`kill`, `timeout`, `docker stop`, a
closed terminal) the same way with 143 and 129, leaving no partial file; a
closed pipe (`... | head`) ends quietly with status 141, as a shell's SIGPIPE
would; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
import warnings
from typing import Callable

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM or SIGHUP, so a run ends as it does on Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


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
        with warnings.catch_warnings(), terminated_as_interrupted():
            warnings.showwarning = show_warning
            return command()
    except Terminated as stop:
        print(f"{prog}: stopped by {signal.Signals(stop.signum).name}; nothing partial was left", file=sys.stderr)
        return 128 + stop.signum
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
    except OSError as error:
        if debug:
            raise
        print(f"{prog}: error: {write_error_message(error)}", file=sys.stderr)
        return EXIT_USAGE


def write_error_message(error: OSError) -> str:
    """One line for a failed read or write: what failed, where, and what to do."""
    where = f" {error.filename}" if error.filename else ""
    hints = {errno.ENOSPC: "the disk is full: free some space or write elsewhere",
             errno.EDQUOT: "the disk quota is used up: free some space or write elsewhere",
             errno.EROFS: "the folder is on a read-only file system: write elsewhere",
             errno.EACCES: "no permission: write to a folder you may write to",
             errno.EPERM: "no permission: write to a folder you may write to",
             errno.EISDIR: "that is a folder: name a file"}
    hint = hints.get(error.errno, " ".join(str(error.strerror or error).split()))
    return f"cannot write{where}: {hint}"


@contextlib.contextmanager
def terminated_as_interrupted():
    """SIGTERM and SIGHUP raise `Terminated` in the main thread while the block runs (else nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def parse_args(parser: argparse.ArgumentParser, argv) -> tuple[argparse.Namespace | None, int]:
    """Parses `argv`; on a bad argument prints one line and returns exit status 2."""
    try:
        return parser.parse_args(argv), EXIT_OK
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return None, EXIT_USAGE
    except SystemExit as stop:  # --help and --version
        return None, int(stop.code or 0)
