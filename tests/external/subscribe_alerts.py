#!/usr/bin/env python3
"""Subscribe to Paddock alerts with no Paddock code: only the .proto files.

Alerts are protobuf `paddock.v1.Alert` messages (proto/paddock/v1/verdict.proto)
published on `<prefix>.alert.<severity>.<ecosystem>`. This script compiles the
.proto files into a temporary directory, subscribes with a plain core NATS
subscription, and prints each alert as one line of protobuf JSON on stdout.

    pip install nats-py protobuf grpcio-tools
    python3 tests/external/subscribe_alerts.py \\
        --server nats://127.0.0.1:4222 --subject 'paddock.alert.>' --count 10

Prints `subscribed` on stderr once the subscription is live. Exit codes:
0 after --count alerts, 1 on an error, 2 when --timeout passes first.
"""

import argparse
import asyncio
import glob
import json
import os
import subprocess
import sys
import tempfile

import nats
from google.protobuf import json_format
from google.protobuf.message import DecodeError

ALERT_TYPE = "paddock.v1.Alert"
# The header Paddock sets to the body's protobuf type.
TYPE_HEADER = "Paddock-Type"


def log(text):
    print(text, file=sys.stderr, flush=True)


def compile_protos(proto_dir, out_dir):
    """Generates the Python modules of every paddock/v1 .proto into out_dir."""
    import grpc_tools

    # grpc_tools ships google/protobuf/*.proto (timestamp.proto among them).
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    sources = sorted(glob.glob(os.path.join(proto_dir, "paddock", "v1", "*.proto")))
    if not sources:
        raise SystemExit(f"no .proto files under {proto_dir}/paddock/v1")
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{proto_dir}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        *sources,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"protoc failed ({done.returncode}):\n{done.stderr}")
    sys.path.insert(0, out_dir)
    from paddock.v1 import verdict_pb2  # generated above

    return verdict_pb2.Alert


async def run(args, alert_class):
    received = 0
    done = asyncio.Event()

    async def on_error(error):
        log(f"nats: {error}")

    nc = await nats.connect(
        servers=[args.server],
        connect_timeout=5,
        max_reconnect_attempts=3,
        error_cb=on_error,
    )
    try:
        sub = await nc.subscribe(args.subject)
        # The server has the subscription once it answered the flush's PING.
        await nc.flush()
        log("subscribed")

        async def read():
            nonlocal received
            async for msg in sub.messages:
                kind = (msg.headers or {}).get(TYPE_HEADER)
                if kind is not None and kind != ALERT_TYPE:
                    log(f"skipping {msg.subject}: {TYPE_HEADER} is {kind}")
                    continue
                alert = alert_class()
                try:
                    alert.ParseFromString(msg.data)
                except DecodeError as error:
                    log(f"skipping {msg.subject}: undecodable body: {error}")
                    continue
                line = json.dumps(json_format.MessageToDict(alert), separators=(",", ":"))
                print(line, flush=True)
                received += 1
                if received >= args.count:
                    done.set()
                    return

        reader = asyncio.create_task(read())
        try:
            await asyncio.wait_for(done.wait(), timeout=args.timeout)
        except asyncio.TimeoutError:
            log(f"timeout: {received} of {args.count} alerts after {args.timeout}s")
            return 2
        finally:
            reader.cancel()
        return 0
    finally:
        await nc.close()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="nats://127.0.0.1:4222")
    parser.add_argument("--subject", default="paddock.alert.>")
    parser.add_argument("--count", type=int, default=1, help="exit after this many alerts")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds; exit 2 after")
    parser.add_argument(
        "--proto-dir",
        default=os.path.normpath(os.path.join(here, "..", "..", "proto")),
        help="the directory holding paddock/v1/*.proto",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paddock-proto-") as out_dir:
        alert_class = compile_protos(os.path.abspath(args.proto_dir), out_dir)
        try:
            return asyncio.run(run(args, alert_class))
        except Exception as error:  # connection refused, bad subject...
            log(f"error: {type(error).__name__}: {error}")
            return 1


if __name__ == "__main__":
    sys.exit(main())
