"""One console for people (stderr) and logging set-up. stdout is reserved for data."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler


def _console(stderr: bool) -> Console:
    """A console that wraps for a terminal only: piped into a file or a CI log, rich's default 80 columns
    would break names and paths mid-word, so lines stay whole (tables get a wide page; COLUMNS still wins)."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or "COLUMNS" in os.environ:
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


PIPED_WIDTH = 200

# People read stderr; scripts read stdout. Every human-facing message goes through this console.
console = _console(stderr=True)


def stdout_console() -> Console:
    """For human-readable data on stdout (solve's summary), with the same wrapping rule."""
    return _console(stderr=False)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 cluster', '2 clusters', '1 mismatch', '3 mismatches'."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_form or (noun + 'es' if noun.endswith(('s', 'sh', 'ch', 'x')) else noun + 's')}"

_configured = False


class LogFileError(ValueError):
    """The --log-file path cannot be opened for writing (one line: what it must be, what it was)."""


def setup_logging(verbose: int = 0, log_file: Path | None = None) -> None:
    """Rich handler on stderr at WARNING/INFO/DEBUG by verbosity; optional debug log file.

    Worker logs reach these handlers without help: the sandbox forwards its zygotes' stderr to the
    'sandbox.zygote' logger in this process, and a Ray execution task returns its records to the driver.
    """
    global _configured
    # The log file first: a path that cannot be opened is the user's error, reported before anything changes.
    file_handler = None
    if log_file is not None:
        try:
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as e:
            raise LogFileError(
                f"--log-file must be a file we can write, got {str(log_file)!r} ({e.strerror or e})"
            ) from None
    root = logging.getLogger()
    if _configured:
        for h in list(root.handlers):
            root.removeHandler(h)
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, level=level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if log_file else level)
    if file_handler is not None:
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s")
        )
        root.addHandler(file_handler)
    # Third-party chatter (transformers, urllib3) stays quiet unless -vv.
    for name in ("transformers", "urllib3", "filelock", "accelerate"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR)
    _configured = True


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
