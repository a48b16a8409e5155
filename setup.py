"""Maps the folder services/ to the import package `mlgameday` (subpackages found automatically)."""
from setuptools import find_packages, setup

setup(
    packages=["mlgameday"] + [f"mlgameday.{name}" for name in find_packages("services")],
    package_dir={"mlgameday": "services"},
)
