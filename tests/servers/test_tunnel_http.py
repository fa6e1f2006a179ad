from __future__ import annotations

import pytest

from servers import tunnel_http


def test_a_request_carries_its_host_length_and_closes_the_connection() -> None:
    raw = tunnel_http.request_bytes(
        "PATCH", "/id/x", "localhost", 2019, b'{"a":1}', {"Content-Type": "application/json"}
    )
    assert raw == (
        b"PATCH /id/x HTTP/1.1\r\nConnection: close\r\nHost: localhost:2019\r\n"
        b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n" + b'{"a":1}'
    )
    given_host = tunnel_http.request_bytes("GET", "/up", "10.0.0.2", 80, b"", {"Host": "a.test"})
    assert b"Host: a.test\r\n" in given_host and b"10.0.0.2" not in given_host
    assert b"Content-Length" not in given_host


def test_a_response_is_parsed_and_a_chunked_body_joined() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Id: 7\r\n\r\n"
        b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n"
    )
    response = tunnel_http.parse_response(chunked)
    assert response.status == 200 and response.body == b"abcdefg"
    assert response.headers["x-id"] == "7"
    with pytest.raises(ValueError):
        tunnel_http.parse_response(b"SSH-2.0-OpenSSH_9.2\r\n")


def test_answers_to_requests_sent_together_are_read_in_turn() -> None:
    first = tunnel_http.request_bytes("GET", "/a", "docker", 80, b"", {}, last=False)
    assert b"Connection: keep-alive\r\n" in first
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    answers = tunnel_http.split_responses(raw, 3)
    assert [(a.status, a.body) for a in answers] == [(200, b"[]"), (404, b"nope!"), (200, b"{}")]
    with pytest.raises(ValueError, match="3 of 4 answers came"):
        tunnel_http.split_responses(raw, 4)
