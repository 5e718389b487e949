"""Run commands without the subprocess boilerplate.

    >>> from procrun import run
    >>> run(["echo", "hi"]).stdout
    'hi\\n'
"""

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Union

__version__ = "0.5.0"
__all__ = ["run", "which", "Result", "CommandFailed"]


@dataclass(frozen=True)
class Result:
    args: Union[str, Sequence[str]]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self):
        return self.returncode == 0


class CommandFailed(RuntimeError):
    def __init__(self, result: Result):
        cmd = result.args if isinstance(result.args, str) else shlex.join(result.args)
        super().__init__(f"command {cmd!r} exited with {result.returncode}: {result.stderr.strip()[:500]}")
        self.result = result


def run(
    args: Union[str, Sequence[str]],
    *,
    check: bool = True,
    shell: bool = False,
    cwd: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: Optional[float] = None,
    input: Optional[str] = None,
) -> Result:
    """Runs a command and captures its output as text.

    A string is split with shlex unless shell=True, in which case it is
    passed to /bin/sh as written: only do that with strings you control.
    """
    if isinstance(args, str) and not shell:
        args = shlex.split(args)
    merged_env = None
    if env is not None:
        merged_env = dict(os.environ)
        merged_env.update(env)
    proc = subprocess.run(
        args,
        shell=shell,
        cwd=cwd,
        env=merged_env,
        timeout=timeout,
        input=input,
        capture_output=True,
        text=True,
    )
    result = Result(args, proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        raise CommandFailed(result)
    return result


def which(name: str, path: Optional[str] = None) -> Optional[str]:
    """Like shutil.which, but also accepts absolute paths and honours PATHEXT on Windows."""
    if os.path.dirname(name):
        return name if os.access(name, os.X_OK) else None
    exts = os.environ.get("PATHEXT", ".EXE;.BAT;.CMD").split(";") if sys.platform == "win32" else [""]
    for directory in (path or os.environ.get("PATH", "")).split(os.pathsep):
        for ext in exts:
            candidate = os.path.join(directory, name + ext)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None
