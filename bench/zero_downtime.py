"""Requests through a lab host's proxy while the panel deploys 5 times (v1, v2, v1, …).

Half the load reuses keep-alive connections, half opens a fresh connection per request, at
a fixed total rate. A keep-alive connection the proxy closed while idle is reopened and the
request sent again, as browsers and HTTP libraries do; anything else that does not end in a
200 is a failure.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import dataclass, field

from bench.panel_env import deploy, lab_fixture, make_app, remove_app, setup_django

RATE = 250  # requests per second, in total
DEPLOYS = 5


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    reopened: int = 0
    versions: dict[str, int] = field(default_factory=dict)


async def request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, keep_alive: bool
) -> tuple[int, bytes]:
    connection = "keep-alive" if keep_alive else "close"
    writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: {connection}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length)
    return status, body


async def load(address: str, host: str, stop: threading.Event, tally: Tally) -> None:
    interval = 2 / RATE  # each of the two kinds sends half the rate

    async def keep_alive_client() -> None:
        reader = writer = None
        while not stop.is_set():
            started = time.perf_counter()
            for attempt in (1, 2):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(address, 80)
                    status, body = await request(reader, writer, host, True)  # type: ignore[arg-type]
                    break
                except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    if attempt == 2:
                        status, body = 0, str(error).encode()
                    else:
                        tally.reopened += 1
            record(tally, status, body, started)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    async def fresh_client() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection(address, 80)
                status, body = await request(reader, writer, host, False)
                writer.close()
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
                status, body = 0, str(error).encode()
            record(tally, status, body, started)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    await asyncio.gather(keep_alive_client(), fresh_client())


def record(tally: Tally, status: int, body: bytes, started: float) -> None:
    tally.latencies.append(time.perf_counter() - started)
    if status == 200:
        version = body.strip().decode(errors="replace")
        tally.versions[version] = tally.versions.get(version, 0) + 1
    else:
        tally.failures.append(f"{status} {body[:80]!r}")


def main() -> None:
    setup_django()
    fixture = lab_fixture()
    server = fixture.servers[0]
    app = make_app(fixture, "zerodown", [server], deploy_timeout=30)
    deploy(app, "v1")
    tally, stop = Tally(), threading.Event()
    loader = threading.Thread(
        target=lambda: asyncio.run(load(server.host, "zerodown.bench.test", stop, tally))
    )
    started = time.perf_counter()
    loader.start()
    time.sleep(1)
    for index in range(DEPLOYS):
        took = deploy(app, "v2" if index % 2 == 0 else "v1")
        print(f"deploy {index + 1}: {took:.2f}s")
    time.sleep(1)
    stop.set()
    loader.join()
    elapsed = time.perf_counter() - started
    remove_app(app, [server])
    total = len(tally.latencies)
    p99 = statistics.quantiles(tally.latencies, n=100)[98] * 1000
    print(
        f"answers by version: {tally.versions}; keep-alive connections reopened: {tally.reopened}"
    )
    for failure in tally.failures[:10]:
        print(f"failure: {failure}")
    print(f"requests: {total}")
    print(f"rate: {total / elapsed:.0f} req/s")
    print(f"failures: {len(tally.failures)}")
    print(f"p99: {p99:.1f} ms")


if __name__ == "__main__":
    main()
