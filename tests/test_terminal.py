"""soilbench.terminal: everything printed is made safe, whatever handlers the process has."""

from __future__ import annotations

import logging
import sys

from soilbench.terminal import sanitised_output


def test_a_logger_holding_the_last_resort_handler_is_left_alone(capsys):
    """logging.lastResort's stream is a read-only property that follows sys.stderr (some libraries
    attach it to their loggers); swapping its stream raised AttributeError and failed the command."""
    logger = logging.getLogger("some.library")
    logger.addHandler(logging.lastResort)
    try:
        with sanitised_output():
            print("title \x1b]0;pwned\x07 here")
            logger.warning("model \x1b[2J name")
    finally:
        logger.removeHandler(logging.lastResort)
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out and "\\x1b]0;pwned" in captured.out
    assert "\x1b" not in captured.err and "\\x1b[2J" in captured.err
    assert sys.stderr is not None
