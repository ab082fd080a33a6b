"""Compile a C reference of bench/ with cffi, once per source and flags,
into bench/.build/ (ignored by git), and import it."""

import hashlib
import importlib
import sys
from pathlib import Path

BUILD = Path(__file__).resolve().parent / ".build"


def module(stem, src, cdef, flags, key_extra=""):
    """The cffi module of C source `src` declaring `cdef`, built with
    `flags`; named stem + a hash of (src, key_extra, flags), so a change
    to any of them builds anew (key_extra: what src includes)."""
    from cffi import FFI
    tag = hashlib.sha256((src + key_extra + " ".join(flags)).encode()).hexdigest()[:12]
    name = f"{stem}_{tag}"
    BUILD.mkdir(exist_ok=True)
    if str(BUILD) not in sys.path:
        sys.path.insert(0, str(BUILD))
    try:
        return importlib.import_module(name)
    except ImportError:
        pass
    ffi = FFI()
    ffi.cdef(cdef)
    ffi.set_source(name, src, extra_compile_args=flags, libraries=["m"])
    ffi.compile(tmpdir=str(BUILD))
    importlib.invalidate_caches()
    return importlib.import_module(name)
