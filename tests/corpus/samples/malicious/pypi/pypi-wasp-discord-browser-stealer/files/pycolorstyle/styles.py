"""Terminal gradients and centering."""
import os
import shutil


def _rgb(r, g, b):
    return "\033[38;2;%d;%d;%dm" % (r, g, b)


def _gradient(start, end, steps=24):
    out = []
    for i in range(steps):
        t = i / float(steps - 1)
        out.append(_rgb(*[int(a + (b - a) * t) for a, b in zip(start, end)]))
    return out


class Colors(object):
    reset = "\033[0m"
    red = _rgb(255, 0, 0)
    blue = _rgb(0, 0, 255)
    blue_to_purple = _gradient((0, 0, 255), (160, 0, 255))
    red_to_yellow = _gradient((255, 0, 0), (255, 255, 0))
    green_to_cyan = _gradient((0, 255, 0), (0, 255, 255))


class Colorate(object):
    @staticmethod
    def Horizontal(color=None, text="", speed=1):
        color = color if isinstance(color, list) and color else Colors.blue_to_purple
        text = str(text)
        out = []
        for line in text.splitlines() or [""]:
            out.append("".join(color[(i // max(int(speed), 1)) % len(color)] + ch for i, ch in enumerate(line)))
        return "\n".join(out) + Colors.reset

    @staticmethod
    def Color(color="", text=""):
        return "%s%s%s" % (color, text, Colors.reset)


class Center(object):
    @staticmethod
    def XCenter(text="", spaces=None):
        width = spaces if isinstance(spaces, int) else shutil.get_terminal_size((80, 24)).columns
        return "\n".join(line.center(width) for line in str(text).splitlines())


def clear():
    """Clear the terminal."""
    return "\033[2J\033[H"


def title(name=""):
    """Set the terminal window title."""
    return "\033]0;%s\007" % (name,) if os.name != "nt" else ""
