"""The production install on the lab: the panel's image size, the first start of compose.yaml
on empty volumes until /up answers (the first admin made on the way, as the README says), and
the whole stack's memory at rest.

Baselines in the same run: the image the panel's image is built on (what the panel adds to
it), and the stack's PostgreSQL and Redis alone (what the panel's three processes add to
what any such app needs beside it).
"""

from __future__ import annotations

import time

from tests.lab import lab, panel_stack

SETTLE_SECONDS = 60
PANEL_SERVICES = ("web", "worker", "beat")


def mib(amount: float) -> str:
    return f"{amount / 2**20:.0f}"


def main() -> None:
    registry = lab.describe().registry
    image = panel_stack.build_panel_image()
    size, base = panel_stack.image_bytes(image), panel_stack.image_bytes(panel_stack.PYTHON_IMAGE)
    stack = panel_stack.Stack.create("panelbench", image, registry, "https://panel.test")
    try:
        started = time.monotonic()
        stack.up()
        stack.ensure_admin()
        stack.wait_until_up()
        cold_start = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        used = stack.memory()
        print(stack.compose("ps").stdout.decode())
    finally:
        stack.remove()
    panel = sum(used[service] for service in PANEL_SERVICES)
    beside = sum(amount for service, amount in used.items() if service not in PANEL_SERVICES)
    print(
        "per service (MiB): " + ", ".join(f"{name} {mib(amount)}" for name, amount in used.items())
    )
    print(f"image_mib: {mib(size)}")
    print(f"base_image_mib: {mib(base)}")
    print(f"panel_layers_mib: {mib(size - base)}")
    print(f"cold_start_s: {cold_start:.1f}")
    print(f"stack_memory_mib: {mib(panel + beside)}")
    print(f"panel_memory_mib: {mib(panel)}")
    print(f"database_and_broker_memory_mib: {mib(beside)}")


if __name__ == "__main__":
    main()
