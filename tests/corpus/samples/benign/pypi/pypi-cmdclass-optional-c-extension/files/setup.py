import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:
    from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError
except ImportError:  # setuptools < 59
    from distutils.errors import CCompilerError, CompileError, DistutilsExecError as ExecError
    from distutils.errors import DistutilsPlatformError as PlatformError

BUILD_ERRORS = (CCompilerError, CompileError, ExecError, PlatformError, OSError)


class BuildFailed(Exception):
    pass


class optional_build_ext(build_ext):
    """Builds the C speedups when possible; the package works without them."""

    def run(self):
        try:
            super().run()
        except PlatformError as exc:
            raise BuildFailed() from exc

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            raise BuildFailed() from exc


def run_setup(with_speedups):
    ext_modules = []
    if with_speedups:
        ext_modules = [Extension("quickcrc._speedups", ["src/quickcrc/_speedups.c"])]
    setup(
        name="quickcrc",
        version="1.3.0",
        ext_modules=ext_modules,
        cmdclass={"build_ext": optional_build_ext},
    )


pure = os.environ.get("QUICKCRC_PURE_PYTHON") == "1" or sys.implementation.name != "cpython"
try:
    run_setup(not pure)
except BuildFailed:
    print("*" * 72, file=sys.stderr)
    print("WARNING: the C extension could not be compiled; quickcrc will use", file=sys.stderr)
    print("its pure-Python implementation (same results, slower).", file=sys.stderr)
    print("*" * 72, file=sys.stderr)
    run_setup(False)
