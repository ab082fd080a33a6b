"""The one import of the compiled core; everything else imports from here.

Its types come from _pyad_cffi.pyi, generated from csrc/pyad.h.
"""

try:
    from pyad._pyad_cffi import ffi, lib
except ImportError:
    # A source checkout shadows the installed package when Python runs from
    # the repository root (`pip install . && python -m pyad`): its pyad/ has
    # no compiled module. Use the one `pip install .` built, if any.
    import glob
    import importlib.util
    import os
    import sys

    _here = os.path.dirname(os.path.abspath(__file__))
    for _entry in sys.path:
        _found = [
            p
            for p in glob.glob(os.path.join(_entry or ".", "pyad", "_pyad_cffi*"))
            if os.path.dirname(os.path.abspath(p)) != _here and p.endswith((".so", ".pyd"))
        ]
        if _found:
            _spec = importlib.util.spec_from_file_location("pyad._pyad_cffi", _found[0])
            # (ignores: a spec for an existing .so/.pyd path always has a loader)
            _module = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
            _spec.loader.exec_module(_module)  # type: ignore[union-attr]
            sys.modules["pyad._pyad_cffi"] = _module
            ffi, lib = _module.ffi, _module.lib
            break
    else:
        raise ImportError(
            "pyad's C core is not built: run `pip install .` (or "
            "`python setup.py build_ext --inplace` for development)"
        ) from None

__all__ = ["ffi", "lib"]
