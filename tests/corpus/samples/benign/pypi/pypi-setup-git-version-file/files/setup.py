"""Build script: stamps the version from git into tidylog/_version.py."""

import os
import re
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION_FILE = os.path.join("tidylog", "_version.py")
TEMPLATE = '# Written by setup.py from git describe. Do not edit.\n__version__ = "{version}"\n__commit__ = "{commit}"\n'


def shipped_version():
    with open(os.path.join(HERE, VERSION_FILE), encoding="utf-8") as f:
        text = f.read()
    version = re.search(r'__version__ = "([^"]+)"', text).group(1)
    commit = re.search(r'__commit__ = "([^"]*)"', text)
    return version, commit.group(1) if commit else ""


def git_version():
    """(version, commit) from `git describe`, or None outside a checkout."""
    if not os.path.isdir(os.path.join(HERE, ".git")):
        return None
    try:
        out = subprocess.run(
            ["git", "describe", "--tags", "--dirty", "--long", "--match", "v[0-9]*"],
            cwd=HERE, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.match(r"v(?P<tag>.+)-(?P<distance>\d+)-g(?P<commit>[0-9a-f]+)(?P<dirty>-dirty)?$", out)
    if not m:
        return None
    version = m["tag"]
    if int(m["distance"]) or m["dirty"]:
        version += f".post{m['distance']}+g{m['commit']}" + (".dirty" if m["dirty"] else "")
    return version, m["commit"]


def version_and_commit():
    return git_version() or shipped_version()


def write_version(base_dir):
    version, commit = version_and_commit()
    path = os.path.join(base_dir, VERSION_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(TEMPLATE.format(version=version, commit=commit))


class stamped_build_py(build_py):
    def run(self):
        super().run()
        if not self.dry_run:
            write_version(self.build_lib)


class stamped_sdist(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        write_version(base_dir)


setup(
    name="tidylog",
    version="2.0.1",
    description="Structured, colourful logging for scripts and services",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="Marek Dvorak",
    author_email="marek@example.net",
    url="https://git.example.net/mdvorak/tidylog",
    license="MIT",
    packages=["tidylog"],
    python_requires=">=3.8",
    cmdclass={"build_py": stamped_build_py, "sdist": stamped_sdist},
)
