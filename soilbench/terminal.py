"""Everything the command line prints goes through here, made safe for a terminal.

Catalog metadata, model names, file names and error messages come from untrusted input. Printed
raw, an escape sequence in them can retitle the window, clear the screen, move the cursor over
earlier lines or hide text (``ESC ] 0 ; title BEL``, ``ESC [ 2 J``, bidirectional overrides).
:func:`clean` shows every such character as a visible escape (``\\x1b``, ``\\u202e``) instead;
:func:`sanitised_output` installs :class:`CleanStream` on ``sys.stdout`` and ``sys.stderr`` for
the duration of a command, so print, logging, progress bars and error lines are all covered in
this one place.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import TextIO

# C0 controls except tab, newline and carriage return (progress bars redraw with \r), DEL, C1
# controls, and the Unicode format characters that reorder or hide text on screen.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """``text`` with every control or text-direction character shown as an escape."""
    return _UNSAFE.sub(_visible, text)


class CleanStream:
    """A text stream that writes :func:`clean` text to the stream it wraps."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(clean(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):  # flush, isatty, fileno, encoding... of the real stream
        return getattr(self._stream, name)


@contextlib.contextmanager
def sanitised_output() -> Iterator[None]:
    """Clean ``sys.stdout`` and ``sys.stderr`` inside the block; the previous streams come back after."""
    previous = sys.stdout, sys.stderr
    # handlers made before the block (logging.basicConfig in an earlier call) hold the raw streams
    handlers = [h for h in _stream_handlers() if h.stream in previous]
    streams = [h.stream for h in handlers]
    sys.stdout, sys.stderr = CleanStream(sys.stdout), CleanStream(sys.stderr)
    for handler in handlers:
        handler.setStream(CleanStream(handler.stream))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = previous
        for handler, stream in zip(handlers, streams):
            handler.setStream(stream)


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.root] + [v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)]
    # a handler whose stream is a property (logging.lastResort) follows sys.stderr by itself
    return [h for logger in loggers for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
            and not isinstance(getattr(type(h), "stream", None), property)]
