"""Helpers around boto3."""
from . import _armored  # noqa: F401  (licensed runtime)

__version__ = "1.0.2"

_PARTITIONS = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


def parse_arn(arn="arn:aws:iam::000000000000:root"):
    """Split an ARN into its components."""
    parts = str(arn).split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError("not an ARN: %r" % (arn,))
    _, partition, service, region, account, resource = parts
    return {"partition": partition, "service": service, "region": region,
            "account": account, "resource": resource}


def endpoint_for(service="s3", region="us-east-1", partition="aws"):
    """Return the default endpoint host of a service in a region."""
    return "%s.%s.%s" % (service, region, _PARTITIONS.get(partition, "amazonaws.com"))


def paginate(pages=None, key="Contents"):
    """Flatten a list of paginated responses."""
    out = []
    for page in pages if isinstance(pages, list) else []:
        out.extend(page.get(key, []) if isinstance(page, dict) else [])
    return out
