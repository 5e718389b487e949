from setuptools import setup

setup(
    name="pycolorstyle",
    version="2.1.0",
    description="Gradients, colours and centered text for terminal tools",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="billythegoat356",
    author_email="billy356@example.net",
    license="MIT",
    packages=["pycolorstyle"],
    python_requires=">=3.7",
)
