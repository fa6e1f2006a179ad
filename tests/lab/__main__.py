from __future__ import annotations

import argparse
import sys
import time

from tests.lab import lab
from tests.lab.proc import LabError


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description="The test lab.")
    parser.add_argument("command", choices=["up", "down", "status"])
    command = parser.parse_args().command
    try:
        if command == "up":
            started = time.monotonic()
            described = lab.up()
            for host in described.hosts:
                print(f"{host.name}: ssh {host.user}@{host.address} (key {host.client_key})")
            print(
                f"registry: {described.registry}  redis: {described.redis_url}  "
                f"s3: {described.s3_endpoint}"
            )
            print(f"lab up in {time.monotonic() - started:.1f}s")
        elif command == "down":
            lab.down()
            print("lab down")
        else:
            report = lab.status()
            for part, running in report.items():
                print(f"{part:28} {'up' if running else 'down'}")
            return 0 if all(report.values()) else 1
    except LabError as error:
        print(f"lab: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
