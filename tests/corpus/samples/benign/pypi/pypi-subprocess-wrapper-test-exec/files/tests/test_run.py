import os
import subprocess
import sys

import pytest

from procrun import CommandFailed, run, which

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell tests")


def test_captures_stdout():
    assert run(["echo", "hello"]).stdout == "hello\n"
    assert run("echo 'two words'").stdout == "two words\n"


def test_shell_string():
    assert run("echo $((1 + 2)) | tr 3 x", shell=True).stdout == "x\n"


def test_failure_raises_with_stderr():
    with pytest.raises(CommandFailed, match="boom"):
        run(["sh", "-c", "echo boom >&2; exit 3"])
    assert run(["sh", "-c", "exit 3"], check=False).returncode == 3


def test_env_and_input():
    code = "import os, sys; print(os.environ['PROCRUN_TEST'], sys.stdin.read())"
    out = run([sys.executable, "-c", code], env={"PROCRUN_TEST": "yes"}, input="data").stdout
    assert out == "yes data\n"


def test_timeout():
    with pytest.raises(subprocess.TimeoutExpired):
        run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.5)


def test_matches_os_system_exit_status():
    status = os.system("exit 4")
    assert os.waitstatus_to_exitcode(status) == run("exit 4", shell=True, check=False).returncode


def test_which():
    assert which("sh")
    assert which("definitely-not-a-command-procrun") is None
