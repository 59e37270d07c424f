# setuptools reads everything from pyproject.toml; this file lets older tooling (and `bench get-app`
# on benches that still call `pip install -e` in legacy mode) install the app.
from setuptools import setup

setup()
