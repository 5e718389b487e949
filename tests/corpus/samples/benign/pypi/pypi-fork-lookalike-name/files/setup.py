from setuptools import setup

with open("README.md", encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="textslug-ng",
    version="0.0.1",
    description="Maintained fork of textslug: turn any text into URL-safe slugs",
    long_description=long_description,
    long_description_content_type="text/markdown",
    author="Noor Haddad",
    author_email="noor@example.org",
    url="https://git.example.org/nhaddad/textslug-ng",
    project_urls={
        "Changelog": "https://git.example.org/nhaddad/textslug-ng/blob/main/CHANGELOG.md",
        "Original project": "https://git.example.org/archive/textslug",
    },
    license="MIT",
    packages=["slugify_ng"],
    python_requires=">=3.8",
    classifiers=[
        "Development Status :: 4 - Beta",
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Topic :: Text Processing",
    ],
)
