"""The build steps pyproject.toml cannot declare: the C parts, with CMake.

`build_native` (the first step of `build`) configures and builds mp-coord, mp-agent and
libmpclient.so with CMake, installs them (component runtime) into a staging prefix, and
hands them to the wheel: the daemons as data for the environment's bin/, the library
inside the pytest_mp package (for an editable install, as data for the environment's
lib/, where wire.py looks first). `build_py` also puts VERSION in the package.

Environment:
  MP_CMAKE_BUILD_DIR  the CMake build directory (default build-py/cmake); `make setup`
                      shares its own build/ this way
  MP_NO_NATIVE=1      the plugin alone (the Debian package builds the C parts with
                      CMake itself)
"""

import os
import shutil
import subprocess
import sys

from setuptools import Command, setup
from setuptools.command.build import build
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = os.path.dirname(os.path.abspath(__file__))
DAEMONS = ("mp-coord", "mp-agent")
LIBRARY = "libmpclient.so"
BUILD_BASE = os.path.join(ROOT, "build-py")
os.makedirs(BUILD_BASE, exist_ok=True)


def _native():
    return os.environ.get("MP_NO_NATIVE", "") not in ("1", "yes", "true")


class BinaryDistribution(Distribution):
    """A platform wheel: it holds ELF executables and a shared library."""

    def has_ext_modules(self):
        return _native()

    # setuptools' editable_wheel asks for has_data, not has_data_files (setuptools <
    # 67.3): without this, an editable install leaves the daemons out.
    def has_data(self):
        return self.has_data_files()


class build_native(Command):
    description = "build mp-coord, mp-agent and libmpclient.so with CMake"
    user_options = [("cmake-build-dir=", None, "the CMake build directory")]

    def initialize_options(self):
        self.cmake_build_dir = None
        self.build_lib = None
        self.editable_mode = False

    def finalize_options(self):
        if self.cmake_build_dir is None:
            self.cmake_build_dir = os.environ.get("MP_CMAKE_BUILD_DIR") or os.path.join(
                BUILD_BASE, "cmake")
        self.cmake_build_dir = os.path.abspath(self.cmake_build_dir)
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self):
        if not _native():
            return
        cmake = shutil.which("cmake")
        if not cmake:
            raise SystemExit("pytest-mp: building needs cmake (apt-get install cmake), "
                             "with libzmq3-dev libczmq-dev libmsgpack-dev libssl-dev")
        build_dir = self.cmake_build_dir
        if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            self._cmake("-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                        "-DMP_BUILD_TESTS=OFF", "-DMP_DEFAULT_PYTHON=%s" % sys.executable)
        self._cmake("--build", build_dir, "-j%d" % (os.cpu_count() or 1),
                    "--target", "mp-coord", "mp-agent", "mpclient")
        stage = os.path.join(build_dir, "pip-stage")
        shutil.rmtree(stage, ignore_errors=True)
        self._cmake("--install", build_dir, "--prefix", stage, "--component", "runtime")
        daemons = [os.path.join(stage, "bin", name) for name in DAEMONS]
        library = self._find(stage, LIBRARY)
        # In place: install_data took its reference to this list before building.
        data_files = self.distribution.data_files
        data_files.append(("bin", daemons))
        if self.editable_mode:
            # The package is the source tree: the library goes to sys.prefix/lib.
            data_files.append(("lib", [library]))
        else:
            target = os.path.join(self.build_lib, "pytest_mp")
            os.makedirs(target, exist_ok=True)
            self.copy_file(library, os.path.join(target, LIBRARY))

    def _cmake(self, *args):
        self.announce("cmake " + " ".join(args), level=2)
        subprocess.run(["cmake", *args], check=True)

    @staticmethod
    def _find(stage, name):
        for directory, _, files in os.walk(stage):
            if name in files:
                return os.path.join(directory, name)
        raise SystemExit("pytest-mp: cmake --install put no %s in %s" % (name, stage))


class build_py_version(build_py):
    """The package carries VERSION, which pytest_mp.__version__ reads."""

    def run(self):
        super().run()
        if not self.editable_mode:
            target = os.path.join(self.build_lib, "pytest_mp")
            os.makedirs(target, exist_ok=True)
            self.copy_file(os.path.join(ROOT, "VERSION"), os.path.join(target, "VERSION"))


class build_with_native(build):
    sub_commands = [("build_native", None)] + build.sub_commands


setup(
    distclass=BinaryDistribution,
    data_files=[],  # filled in by build_native
    cmdclass={"build": build_with_native, "build_native": build_native,
              "build_py": build_py_version},
    # Not build/ (the CMake build of `make setup`) nor egg-info in plugin/ (on sys.path).
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
)
