from setuptools import setup

setup(
    name="eth-keyfile-utils",
    version="0.6.3",
    description="Helpers for Ethereum v3 keystore files",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="web3-tools",
    author_email="web3-tools@example.org",
    license="MIT",
    packages=["eth_keyfile_utils"],
    python_requires=">=3.8",
)
