"""Is a NetCDF3 (classic, 64-bit offset, CDF-5) file as long as its header says?

The netCDF library opens a classic file cut short and returns fill values (or zeros) for the
missing bytes: a truncated copy then loads as a smaller model (95 Pg of soil carbon instead of
1,412). NetCDF4/HDF5 files fail to open when cut; classic files have to be checked by size.

The header declares where each variable's data begin and how long they are, so the bytes the
file must have are known before any data is read. Hand-written (about 60 lines, following the
format specification) because no library exposes the declared offsets without reading the data:
scipy's reader fails on truncated files but also on valid CDF-5 files and cannot say why.
"""

from __future__ import annotations

import struct
from os import PathLike
from pathlib import Path

#: bytes per value of each nc_type (NC_BYTE … NC_UINT64)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}
_STREAMING = 0xFFFFFFFF
_MAGIC = b"CDF"


class HeaderError(ValueError):
    """The header itself is cut or malformed."""


class _Reader:
    """Reads the header from an open file, a field at a time (the data are never read)."""

    def __init__(self, handle, version: int, size: int):
        self.handle, self.pos, self.size = handle, 4, size
        self.wide = version == 5  # CDF-5: 8-byte counts

    def _take(self, n: int) -> bytes:
        if n > self.size - self.pos:  # a damaged count must not make us read gigabytes
            raise HeaderError("the header ends early")
        chunk = self.handle.read(n)
        if len(chunk) < n:
            raise HeaderError("the header ends early")
        self.pos += n
        return chunk

    def int32(self) -> int:
        return struct.unpack(">I", self._take(4))[0]

    def int64(self) -> int:
        return struct.unpack(">Q", self._take(8))[0]

    def count(self) -> int:
        return self.int64() if self.wide else self.int32()

    def skip_padded(self, n: int) -> None:
        self._take(n + (-n % 4))

    def name(self) -> str:
        n = self.count()
        text = self._take(n).decode("utf-8", "replace")
        self._take(-n % 4)
        return text

    def attributes(self) -> None:
        self.int32()  # NC_ATTRIBUTE tag or ABSENT
        for _ in range(self.count()):
            self.name()
            nc_type = self.int32()
            self.skip_padded(self.count() * _TYPE_SIZES.get(nc_type, 1))


def declared_ends(path: str | PathLike) -> dict[str, int] | None:
    """Per variable, the byte its data end at by the header; None when not a NetCDF3 file.

    Raises
    ------
    HeaderError
        When the header itself is cut short or malformed.
    """
    with Path(path).open("rb") as handle:
        magic = handle.read(4)
        if magic[:3] != _MAGIC or len(magic) < 4 or magic[3] not in (1, 2, 5):
            return None
        return _parse(_Reader(handle, magic[3], Path(path).stat().st_size), magic[3])


def _parse(reader: _Reader, version: int) -> dict[str, int]:
    numrecs = reader.count()
    reader.int32()
    dimensions = []
    for _ in range(reader.count()):
        reader.name()
        dimensions.append(reader.count())
    reader.attributes()
    reader.int32()
    ends: dict[str, int] = {}
    record_vars = []
    for _ in range(reader.count()):
        name = reader.name()
        dimids = [reader.count() for _ in range(reader.count())]
        reader.attributes()
        nc_type = reader.int32()
        reader.count()  # vsize: capped at 2**32 - 1 for large variables, so recomputed below
        begin = reader.int32() if version == 1 else reader.int64()
        if any(d >= len(dimensions) for d in dimids):
            raise HeaderError("a variable refers to a dimension that does not exist")
        shape = [dimensions[d] for d in dimids]
        is_record = bool(shape) and shape[0] == 0
        size = _TYPE_SIZES.get(nc_type, 1)
        for length in (shape[1:] if is_record else shape):
            size *= length
        if is_record:
            record_vars.append((name, begin, size))
        else:
            ends[name] = begin + size
    if record_vars and numrecs not in (0, _STREAMING):
        # one record holds every record variable, each padded to 4 bytes unless it is the only one
        record_size = record_vars[0][2] if len(record_vars) == 1 else sum(s + (-s % 4) for *_, s in record_vars)
        ends.update({name: begin + (numrecs - 1) * record_size + size for name, begin, size in record_vars})
    return ends


def truncation(path: str | PathLike) -> tuple[str, str | None] | None:
    """``(problem, first variable cut)`` when a NetCDF3 file is shorter than its header
    declares, else None."""
    try:
        ends = declared_ends(path)
    except HeaderError as err:
        return f"is a damaged NetCDF3 file ({err})", None
    if not ends:
        return None
    actual = Path(path).stat().st_size
    needed = max(ends.values())
    if actual >= needed:
        return None
    cut = min((end, name) for name, end in ends.items() if end > actual)[1]
    return (f"is truncated: its NetCDF3 header declares {needed:,} bytes but the file has {actual:,}, so the "
            "data of this and later variables are missing; copy or download the file again", cut)

