def _table16():
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        table.append(c & 0xFFFF)
    return table


def _table32():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_T16 = _table16()
_T32 = _table32()


def crc16_ccitt(data, crc=0xFFFF):
    for b in bytes(data):
        crc = ((crc << 8) & 0xFFFF) ^ _T16[((crc >> 8) ^ b) & 0xFF]
    return crc


def crc32(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in bytes(data):
        crc = _T32[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
