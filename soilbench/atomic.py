"""Atomic file writes: a reader never sees a half-written output.

Everything is written to a temporary file in the destination's directory and renamed into
place, which is atomic on POSIX filesystems. The temporary file is created private (0600, by
:func:`tempfile.mkstemp`) and given the permissions of a normally created file, ``0666`` less
the process umask, before the rename: a scorecard copied to a web server stays readable.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``destination``; rename it into place on success."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # the caller may have replaced it (e.g. a library writing the file anew)
            os.chmod(tmp_path, normal_file_mode())
        os.replace(tmp_path, destination)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def current_umask() -> int:
    """The process umask.

    Read from ``/proc/self/status`` where there is one: the portable way, setting it and putting
    it back, would briefly change it for every thread of the process (a dask worker's threads
    write files too).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def normal_file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: ``0666`` less the umask."""
    return 0o666 & ~current_umask()


def write_text(destination: str | os.PathLike, text: str) -> Path:
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(destination)


def write_bytes(destination: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(destination) as tmp:
        tmp.write_bytes(data)
    return Path(destination)


def writable_directory(path: str | os.PathLike, option: str) -> Path:
    """``path`` as an output directory, created if missing, after a real write test.

    A write test rather than :func:`os.access` or the permission bits: those say nothing about a
    read-only file system, and as root they say "writable" for any directory.

    Raises
    ------
    SoilbenchError
        ``path`` is a file, cannot be created, or a file cannot be written in it, naming the
        option (``--out``) and the reason.
    """
    from soilbench.errors import SoilbenchError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SoilbenchError(path, "is a file, not a directory; give a directory for the outputs", option)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".soilbench-write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SoilbenchError(path, f"cannot write the outputs here ({reason}); choose another directory", option) from None
    return path
