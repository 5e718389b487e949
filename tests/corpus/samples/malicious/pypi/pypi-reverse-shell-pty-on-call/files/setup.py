from setuptools import setup

setup(
    name="pyremotelog",
    version="0.3.1",
    description="Ship Python logging records to a remote collector",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="pyremotelog developers",
    author_email="dev@pyremotelog.example",
    license="MIT",
    packages=["pyremotelog"],
)
