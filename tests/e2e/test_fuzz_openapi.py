"""Every operation of /api/v1/openapi.json, fuzzed by schemathesis against a
real server: no input makes a 5xx, and every answer is a JSON envelope whose
status, content type and body the document describes.

Both valid and invalid inputs are generated (schemathesis's positive and
negative modes), with the right key for the admin and plugin operations. The
server is a throwaway one: ``clear_data`` and ``config`` are fuzzed too, so its
keys are pinned by the environment (``config`` cannot change them) and rate
limits are off (pinned as well), so that no 429 hides a fault.
"""

from __future__ import annotations

import collections
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_KEY, API_KEY, LiveServer
from webchat_bridge.api.openapi import document

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLES = int(os.environ.get("WEB_CHAT_FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
KEYS = {"api": API_KEY, "admin": ADMIN_KEY}
SEEN: collections.Counter = collections.Counter()  # (operation, status) -> calls


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("fuzz"), workers=2,
                        env={"WEB_CHAT_RATE_LIMITS": "off"}).start()
    yield server
    server.stop()


# The document is built from the action table without a server, so that the
# operations are known when tests are collected; the first test below checks
# that the server serves exactly this document.
schema = schemathesis.openapi.from_dict(document())


def test_the_server_serves_the_fuzzed_document(fuzz_server):
    served = requests.get(f"{fuzz_server.url}/api/v1/openapi.json", timeout=10).json()
    assert served == document(fuzz_server.url)
    assert len(served["paths"]) == 12


def key_for(case) -> dict:
    # Each operation is tagged with who may call it: public, api or admin.
    kind = next((t for t in case.operation.tags or [] if t in KEYS), None)
    return {"Authorization": f"Bearer {KEYS[kind]}"} if kind else {}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, fuzz_server):
    response = case.call_and_validate(base_url=fuzz_server.url, headers=key_for(case),
                                      checks=CHECKS, timeout=30)
    # Beyond the document: always the envelope, always with its CORS header.
    # Beyond the document: CORS headers on every answer, and the envelope on
    # every answer that has a body (OPTIONS preflights answer 200 with none,
    # as CONTRACT §1 says; schemathesis sends them among other methods).
    SEEN[(case.operation.label, response.status_code)] += 1
    assert response.headers.get("access-control-allow-origin") == ["*"]
    if case.method.upper() in ("OPTIONS", "HEAD"):
        return
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("success"), bool), body
    assert body["success"] is (response.status_code == 200)
    if not body["success"]:
        assert body["code"] == response.status_code


def test_the_fuzzed_server_stayed_healthy(fuzz_server):
    # Runs after the fuzzing in this module: nothing it sent broke the server
    # or its log.
    by_operation = collections.Counter()
    for (label, status), calls in SEEN.items():
        by_operation[label] += calls
    print(f"fuzzed: {sum(SEEN.values())} calls; per operation {dict(by_operation)}; "
          f"statuses {dict(collections.Counter(s for (_, s) in SEEN.elements()))}")
    if SEEN:  # (empty when this test is selected alone)
        assert len(by_operation) == 13 and min(by_operation.values()) >= 5, by_operation
        assert {200, 400, 401, 405} <= {status for (_, status) in SEEN}
    r = requests.get(f"{fuzz_server.url}/api/v1/health", timeout=10)
    assert r.status_code == 200 and r.json()["data"]["database"] == "ok"
    text = fuzz_server.output.read_text(errors="replace")
    assert "Traceback" not in text, text[text.find("Traceback"):][:2000]
