from setuptools import setup

setup(
    name="requestsfix",
    version="2.31.1",
    description="Python HTTP for Humans, with the CVE-2023-32681 fix backported",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="Kenneth Reitz",
    author_email="requests-fix@example.org",
    license="Apache 2.0",
    packages=["requestsfix"],
    python_requires=">=3.7",
)
