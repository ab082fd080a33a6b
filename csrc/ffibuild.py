"""cffi build script: compiles csrc/ into the private module pyad._pyad_cffi.

The cdef is read from csrc/pyad.h, the one public header (and the pyad_*.h
parts it includes); preprocessor lines are dropped because cffi's parser
does not run a preprocessor.
"""

import os
import re
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = [
    "tape.c",
    "nodes.c",
    "record.c",
    "sweep.c",
    "graph.c",
    "export.c",
    "ops.c",
    "program.c",
    "replay.c",
    "batch.c",
    "batch_exact.c",
    "pybridge.c",
    "pybuffers.c",
    "pyvar.c",
    "pyoper.c",
    "pycall.c",
    "pyerrmode.c",
    "vmath.c",
    "lanes.c",
    "drive.c",
    "hessian.c",
    "sparsity.c",
    "coloring.c",
    "tapegrad.c",
    "bulk.c",
    "special.c",
]


def _cdef_from_header(path):
    """The header's declarations: preprocessor lines dropped, except that a
    pyad_*.h it includes is read in place (the API's parts)."""
    out = []
    with open(path) as f:
        for line in f:
            part = re.match(r'\s*#\s*include\s+"(pyad_\w+\.h)"', line)
            if part:
                out.append(_cdef_from_header(os.path.join(os.path.dirname(path), part[1])))
            elif not line.lstrip().startswith("#"):
                out.append(line)
    return "".join(out)


def _compile_args():
    if sys.platform == "win32":
        return ["/O2", "/W3"]
    args = ["-O3", "-std=c11", "-Wall", "-Wextra", "-ffp-contract=off"]
    # Extra flags, e.g. sanitizers, for checked builds (see .ci/run).
    args += os.environ.get("PYAD_CFLAGS", "").split()
    return args


ffibuilder = FFI()
ffibuilder.cdef(_cdef_from_header(os.path.join(HERE, "pyad.h")))
ffibuilder.set_source(
    "pyad._pyad_cffi",
    '#include "pyad.h"',
    sources=[os.path.join("csrc", s) for s in SOURCES],
    include_dirs=["csrc"],
    extra_compile_args=_compile_args(),
    extra_link_args=os.environ.get("PYAD_LDFLAGS", "").split(),
    libraries=[] if sys.platform == "win32" else ["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
