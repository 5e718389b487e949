from setuptools import setup

setup(
    name="py3-dateutil",
    version="2.8.3",
    description="Extensions to the standard Python datetime module (Python 3 build)",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="Gustavo Niemeyer",
    author_email="dateutil@example.org",
    license="Apache 2.0",
    packages=["dateutil"],
    python_requires=">=3.5",
)
