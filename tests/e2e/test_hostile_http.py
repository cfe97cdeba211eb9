"""Raw HTTP that a client library would never send, against the real server."""

from __future__ import annotations

import json
import socket

import pytest

pytestmark = pytest.mark.e2e


def exchange(server, payload: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(payload)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def chunked(body: bytes) -> bytes:
    parts = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                     for i in range(0, len(body), 65536))
    return parts + b"0\r\n\r\n"


HEAD = b"POST /api/v1/?action=messages HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"


@pytest.mark.parametrize("body", [b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nabcdeXX\r\n0\r\n\r\n"])
def test_a_broken_chunked_body_is_a_400(live_server, body):
    status, answer = exchange(live_server, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert status == 400 and answer["error"] == "Invalid request body"
    assert "Traceback" not in live_server.output.read_text()


def test_a_chunked_body_is_read_and_its_size_enforced(live_server):
    good = json.dumps({"session_id": "chunky", "message": "chunked hello"}).encode()
    status, answer = exchange(live_server, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(good))
    assert status == 200 and answer["data"]["session_id"] == "chunky"
    big = json.dumps({"session_id": "chunky", "message": "a" * 1_100_000}).encode()
    status, answer = exchange(live_server, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(big))
    assert status == 400 and answer["error"] == "Request body too large"
