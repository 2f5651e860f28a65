"""RAR 5.0 archives for tests: no free tool writes RAR, so the format is written to its spec."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _vint(value: int) -> bytes:
    """RAR 5's variable-length integer: 7 bits a byte, the high bit says "more follows"."""
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value >> 7 else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _rar_block(fields: bytes) -> bytes:
    body = _vint(len(fields)) + fields
    return struct.pack("<I", zlib.crc32(body)) + body  # the CRC covers size and fields


def write_rar(archive: Path, members: dict[str, bytes]) -> Path:
    """A RAR 5.0 archive with every member stored (RAR's "-m0"), written to the format's spec.

    No free tool writes RAR; this is the format itself (signature, main header, one file
    header per member, end of archive), and libarchive (bsdtar) and rarfile both read it.
    """
    blocks = [b"Rar!\x1a\x07\x01\x00", _rar_block(_vint(1) + _vint(0) + _vint(0))]
    for name, data in members.items():
        encoded = name.encode()
        blocks += [_rar_block(
            _vint(2) + _vint(0x0002) + _vint(len(data))  # file header, with a data area
            + _vint(0x0004) + _vint(len(data)) + _vint(0o100644)  # data CRC32 follows; mode
            + struct.pack("<I", zlib.crc32(data)) + _vint(0) + _vint(1)  # stored; Unix host
            + _vint(len(encoded)) + encoded), data]
    blocks.append(_rar_block(_vint(5) + _vint(0) + _vint(0)))  # end of archive
    archive.write_bytes(b"".join(blocks))
    return archive
