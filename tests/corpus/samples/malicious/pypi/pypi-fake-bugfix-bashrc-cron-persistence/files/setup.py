from setuptools import setup

setup(
    name="sqlite-utilz",
    version="3.36.1",
    description="CLI tool and Python utility functions for manipulating SQLite databases",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="Simon Willison",
    author_email="sqlite-utils@example.com",
    license="Apache License, Version 2.0",
    packages=["sqlite_utilz"],
    python_requires=">=3.7",
)
