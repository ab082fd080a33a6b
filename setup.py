"""Build glue: setuptools runs csrc/ffibuild.py to compile the C core.

cffi builds the module against CPython's limited API, so one wheel (tag
cp39-abi3) serves every CPython from 3.9 on.
"""
from setuptools import setup

setup(
    cffi_modules=["csrc/ffibuild.py:ffibuilder"],
    options={"bdist_wheel": {"py_limited_api": "cp39"}},
)
