"""HTTP/1.1 over a tunnel to a port on a server: the request bytes, and the response parsed.
Pure; the executor carries the bytes (health checks, the proxy's admin API)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def request_bytes(
    method: str, path: str, address: str, port: int, body: bytes, headers: dict[str, str]
) -> bytes:
    given = {name.lower() for name in headers}
    lines = [f"{method} {path} HTTP/1.1", "Connection: close"]
    if "host" not in given:
        lines.append(f"Host: {address}:{port}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse_response(raw: bytes) -> HttpResponse:
    """Raises ValueError when the bytes are not an HTTP response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError("not an HTTP response")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return HttpResponse(status=int(parts[1]), headers=headers, body=body)


def dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)
