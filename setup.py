"""Build glue: setuptools runs csrc/ffibuild.py to compile the C core."""
from setuptools import setup

setup(cffi_modules=["csrc/ffibuild.py:ffibuilder"])
