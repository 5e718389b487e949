from setuptools import setup

setup(
    name="urlllib3",
    version="1.26.20",
    description="HTTP library with thread-safe connection pooling, file post, and more.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="Andrey Petrov",
    author_email="andrey.petrov@example.org",
    license="MIT",
    packages=["urlllib3"],
)
