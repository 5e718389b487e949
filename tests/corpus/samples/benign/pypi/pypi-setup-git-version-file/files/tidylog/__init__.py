"""Structured logging: key=value or JSON lines, coloured on terminals."""

import json
import logging
import os
import sys
import time

from ._version import __version__

__all__ = ["get_logger", "configure", "__version__"]

_COLOURS = {"DEBUG": "\033[36m", "INFO": "\033[32m", "WARNING": "\033[33m", "ERROR": "\033[31m", "CRITICAL": "\033[35m"}
_RESET = "\033[0m"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class TidyFormatter(logging.Formatter):
    def __init__(self, json_lines=False, colour=None):
        super().__init__()
        self.json_lines = json_lines
        self.colour = sys.stderr.isatty() and "NO_COLOR" not in os.environ if colour is None else colour

    def fields(self, record):
        return {k: v for k, v in vars(record).items() if k not in _STANDARD}

    def format(self, record):
        extra = self.fields(record)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        if self.json_lines:
            doc = {"ts": ts, "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
            doc.update(extra)
            if record.exc_info:
                doc["exc"] = self.formatException(record.exc_info)
            return json.dumps(doc, default=str)
        level = record.levelname
        if self.colour:
            level = f"{_COLOURS.get(level, '')}{level:<8}{_RESET}"
        else:
            level = f"{level:<8}"
        pairs = " ".join(f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}" for k, v in extra.items())
        line = f"{ts} {level} {record.name}: {record.getMessage()}" + (f" {pairs}" if pairs else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(level="INFO", json_lines=None, stream=None):
    if json_lines is None:
        json_lines = os.environ.get("TIDYLOG_FORMAT") == "json"
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(TidyFormatter(json_lines=json_lines))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name=None):
    return logging.getLogger(name)
