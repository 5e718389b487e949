import argparse
import sys

from . import DriverFetchError, install


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m driverfetch", description="Download a browser driver")
    parser.add_argument("driver", nargs="?", default="geckodriver", choices=["geckodriver", "chromedriver"])
    parser.add_argument("--force", action="store_true", help="download again even if present")
    args = parser.parse_args(argv)
    try:
        print(install(args.driver, force=args.force))
    except DriverFetchError as exc:
        print(f"driverfetch: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
