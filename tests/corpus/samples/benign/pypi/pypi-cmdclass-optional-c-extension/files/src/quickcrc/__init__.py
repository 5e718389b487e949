"""CRC-16/CCITT-FALSE and CRC-32 (IEEE) checksums."""

from ._pure import crc16_ccitt as _crc16_pure, crc32 as _crc32_pure

try:
    from ._speedups import crc16_ccitt, crc32

    HAVE_SPEEDUPS = True
except ImportError:  # built without a compiler, or QUICKCRC_PURE_PYTHON=1
    crc16_ccitt, crc32 = _crc16_pure, _crc32_pure
    HAVE_SPEEDUPS = False

__all__ = ["crc16_ccitt", "crc32", "HAVE_SPEEDUPS"]
__version__ = "1.3.0"
