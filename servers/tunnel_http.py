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
    method: str, path: str, address: str, port: int, body: bytes, headers: dict[str, str],
    *, last: bool = True,
) -> bytes:  # fmt: skip
    """One request; all but the `last` of several sent on one connection keep it open."""
    given = {name.lower() for name in headers}
    lines = [f"{method} {path} HTTP/1.1", f"Connection: {'close' if last else 'keep-alive'}"]
    if "host" not in given:
        lines.append(f"Host: {address}:{port}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse_response(raw: bytes) -> HttpResponse:
    """Raises ValueError when the bytes are not an HTTP response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = _head(head)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, _ = _chunked(body)
    return HttpResponse(status=status, headers=headers, body=body)


def _head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError("not an HTTP response")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def split_responses(raw: bytes, count: int) -> list[HttpResponse]:
    """The answers to `count` requests sent on one connection, read in turn by their own
    framing (Content-Length or chunked). Raises ValueError when fewer came."""
    found: list[HttpResponse] = []
    for _ in range(count):
        head, separator, rest = raw.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError(f"{len(found)} of {count} answers came")
        status, headers = _head(head)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, raw = _chunked(rest)
        else:
            length = int(headers.get("content-length") or 0)
            body, raw = rest[:length], rest[length:]
        found.append(HttpResponse(status, headers, body))
    return found


def _chunked(data: bytes) -> tuple[bytes, bytes]:
    """A chunked body and what follows it."""
    out = bytearray()
    while True:
        size_line, separator, rest = data.partition(b"\r\n")
        if not separator:
            raise ValueError("a chunked body ends early")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            _, _, after = rest.partition(b"\r\n")
            return bytes(out), after
        out += rest[:size]
        data = rest[size + 2 :]
