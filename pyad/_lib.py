"""The one import of the compiled core; everything else imports from here."""
from pyad._pyad_cffi import ffi, lib

__all__ = ["ffi", "lib"]
