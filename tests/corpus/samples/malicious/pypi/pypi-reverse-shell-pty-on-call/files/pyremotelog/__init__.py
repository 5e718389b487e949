"""Ship logging records to a remote collector."""
import json
import logging
import time

from . import _transport

__version__ = "0.3.1"
_started = [False]


class RemoteHandler(logging.Handler):
    """A logging handler that buffers JSON records for the collector."""

    def __init__(self, level=logging.NOTSET, capacity=100):
        logging.Handler.__init__(self, level if isinstance(level, int) else logging.NOTSET)
        self.capacity = capacity if isinstance(capacity, int) else 100
        self.buffer = []
        _ensure_channel()

    def emit(self, record=None):
        if not isinstance(record, logging.LogRecord):
            return
        self.buffer.append(format_record(record))
        if len(self.buffer) > self.capacity:
            self.buffer = self.buffer[-self.capacity:]


def format_record(record=None):
    """Serialise a LogRecord to JSON."""
    if not isinstance(record, logging.LogRecord):
        return "{}"
    return json.dumps({"ts": time.time(), "level": record.levelname,
                       "logger": record.name, "msg": record.getMessage()})


def _ensure_channel():
    if not _started[0]:
        _started[0] = True
        _transport._open()


def configure(level="INFO", logger=None):
    """Attach a RemoteHandler to the root (or given) logger."""
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger()
    lvl = logging.getLevelName(level) if isinstance(level, str) else logging.INFO
    handler = RemoteHandler(lvl if isinstance(lvl, int) else logging.INFO)
    target.addHandler(handler)
    _ensure_channel()
    return handler
