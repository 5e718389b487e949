import zlib

import quickcrc
from quickcrc import _pure


def test_check_values():
    # Check values from the CRC catalogue for b"123456789".
    assert quickcrc.crc16_ccitt(b"123456789") == 0x29B1
    assert quickcrc.crc32(b"123456789") == 0xCBF43926
    assert _pure.crc16_ccitt(b"123456789") == 0x29B1
    assert _pure.crc32(b"123456789") == 0xCBF43926


def test_matches_zlib():
    data = bytes(range(256)) * 17
    assert quickcrc.crc32(data) == zlib.crc32(data)
    assert quickcrc.crc32(data[100:], quickcrc.crc32(data[:100])) == zlib.crc32(data)
