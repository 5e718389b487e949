from setuptools import setup

setup(
    name="discord-webhook-py",
    version="1.3.2",
    description="Execute Discord webhooks from Python",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author="hookdev",
    author_email="hookdev@example.net",
    license="MIT",
    packages=["discord_webhook_py"],
    python_requires=">=3.7",
)
