"""Helpers for Ethereum v3 keystore files."""
import hashlib
import json

from .core import *  # noqa: F401,F403  (compiled helpers)

__version__ = "0.6.3"


def is_keyfile(data=None):
    """True when data (a dict or JSON text) looks like a v3 keystore."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return False
    return isinstance(data, dict) and data.get("version") == 3 and "crypto" in {k.lower() for k in data}


def to_checksum_address(address="0x0000000000000000000000000000000000000000"):
    """EIP-55 mixed-case checksum (sha3_256 stands in for keccak)."""
    addr = str(address).lower().replace("0x", "")
    digest = hashlib.sha3_256(addr.encode()).hexdigest()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(addr))
