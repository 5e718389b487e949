"""Cross-platform coloured terminal text."""
import os
import sys

__version__ = "0.4.6"
__all__ = ["Fore", "Back", "Style", "init", "deinit", "colored"]

CSI = "\033["


def _code(n):
    return CSI + str(n) + "m"


class _Codes(object):
    def __init__(self, base):
        names = ("BLACK", "RED", "GREEN", "YELLOW", "BLUE", "MAGENTA", "CYAN", "WHITE")
        for i, name in enumerate(names):
            setattr(self, name, _code(base + i))
            setattr(self, "LIGHT" + name + "_EX", _code(base + 60 + i))
        self.RESET = _code(base + 9)


class _Style(object):
    BRIGHT = _code(1)
    DIM = _code(2)
    NORMAL = _code(22)
    RESET_ALL = _code(0)


Fore = _Codes(30)
Back = _Codes(40)
Style = _Style()
_enabled = [False]


def init(autoreset=False, strip=None):
    """Enable colour output; strip codes when stdout is not a terminal."""
    if strip is None:
        strip = not (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()) or os.environ.get("NO_COLOR")
    _enabled[0] = not strip
    return _enabled[0]


def deinit():
    _enabled[0] = False


def colored(text="", fore="", back="", style=""):
    """Wrap text in the given codes and a reset."""
    return "%s%s%s%s%s" % (fore, back, style, text, Style.RESET_ALL)
