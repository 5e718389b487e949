from setuptools import setup

setup(
    name="aws-boto3-helpers",
    version="1.0.2",
    description="Helpers around boto3: ARN parsing, regions, pagination",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="cloudtools",
    author_email="cloudtools@example.net",
    license="MIT",
    packages=["aws_boto3_helpers"],
    python_requires=">=3.7",
)
