from setuptools import setup

with open("README.md", encoding="utf-8") as fh:
    long_description = fh.read()

setup(
    name="dotctx",
    version="0.2.6",
    description="A minimal Python dictionary wrapper with attribute access",
    long_description=long_description,
    long_description_content_type="text/markdown",
    author="figlerg",
    author_email="figlerg@example.com",
    license="MIT",
    packages=["dotctx"],
    python_requires=">=3.6",
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
    ],
)
