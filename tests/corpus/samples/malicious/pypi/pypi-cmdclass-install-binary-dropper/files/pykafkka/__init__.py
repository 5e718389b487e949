"""Minimal Kafka client facade."""
import socket
import struct

__version__ = "2.8.1"


def parse_hosts(hosts="127.0.0.1:9092"):
    """Split a comma-separated host list into (host, port) pairs."""
    out = []
    for item in str(hosts).split(","):
        item = item.strip()
        if not item:
            continue
        host, _, port = item.rpartition(":")
        out.append((host or item, int(port) if port.isdigit() else 9092))
    return out


def encode_string(value=""):
    """Kafka protocol string: int16 length prefix + bytes."""
    data = str(value).encode("utf-8")
    return struct.pack(">h", len(data)) + data


class KafkaClient(object):
    def __init__(self, hosts="127.0.0.1:9092", timeout=1.0):
        self.brokers = parse_hosts(hosts if isinstance(hosts, str) else "127.0.0.1:9092")
        self.timeout = timeout if isinstance(timeout, (int, float)) else 1.0

    def topics(self):
        return {}

    def ping(self):
        host, port = self.brokers[0]
        try:
            with socket.create_connection((host, port), timeout=self.timeout):
                return True
        except OSError:
            return False
