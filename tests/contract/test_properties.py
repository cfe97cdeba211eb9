"""Whatever arrives, the API answers with its JSON envelope (CONTRACT §2, §4).

Arbitrary JSON, arbitrary bytes and arbitrary query strings are sent to every
action, in both URL forms, with every method and with and without the right
key; the answer must always be the envelope with its headers, never a 500.
Then specific hostile inputs, each with the exact answer it must get.
"""

from __future__ import annotations

import json
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from webchat_bridge.api.actions import ACTIONS
from webchat_bridge.settings import SPECS

from ..conftest import ADMIN_KEY, API_KEY

CONTENT_TYPE = "application/json; charset=utf-8"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}
ALLOWED_STATUS = {200, 400, 401, 404, 405}
KEYS = {"api": API_KEY, "admin": ADMIN_KEY}

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def environ():
    # Rate limits off: hundreds of requests from one client must not turn
    # into 429s and hide what is being tested.
    return {"WEB_CHAT_API_KEY": API_KEY, "WEB_CHAT_ADMIN_KEY": ADMIN_KEY,
            "WEB_CHAT_RATE_LIMITS": "off"}


def assert_envelope(response) -> dict:
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status in ALLOWED_STATUS, (status, text[:500])
    assert response.headers.get("Content-Type") == CONTENT_TYPE
    for name, value in CORS.items():
        assert response.headers.get(name) == value, name
    body = json.loads(text)
    assert isinstance(body, dict)
    assert isinstance(body.get("success"), bool)
    assert isinstance(body.get("timestamp"), str) and body["timestamp"].endswith("Z")
    if body["success"]:
        assert status == 200
        assert isinstance(body.get("message"), str)
        assert isinstance(body.get("data"), dict)
    else:
        assert isinstance(body.get("error"), str) and body["error"]
        assert body.get("code") == status and type(body["code"]) is int
        assert status != 200
    return body


def fuzzed(response) -> dict:
    """assert_envelope, counting the answers in Hypothesis's statistics."""
    body = assert_envelope(response)
    event(f"{response.status_code} {body.get('error', 'ok').split(':')[0][:40]}")
    return body


# -- strategies -------------------------------------------------------------------

LONE = ["\ud83d", "\udc00", "\udfff", "\x00", "\u2028", "\ufeff", "\U0001f600"]
any_char = st.one_of(st.characters(codec=None, exclude_categories=()), st.sampled_from(LONE))
json_text = st.text(alphabet=any_char, max_size=24)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), json_text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_text, children,
                                                                       max_size=4),
    max_leaves=16,
)
# Values that get past the first checks, so the fuzzing reaches the work too.
plausible = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    st.sampled_from(["s1", "session_abc", "0123456789abcdef", "hello", "0", " ", "", 1, 0, -1,
                     2**63, 2**63 - 1, True, False, 600, 10**6, "2025-06-01T10:00:00Z",
                     "strong-key-" + "x" * 20, API_KEY, ADMIN_KEY]),
)
FIELDS = ["session_id", "message", "response", "message_id", "uid", "timestamp", *SPECS]
shaped_objects = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), json_text),
    st.one_of(plausible, json_values),
    max_size=6,
)


@st.composite
def bodies(draw) -> bytes:
    value = draw(st.one_of(shaped_objects, json_values))
    how = draw(st.sampled_from(["ascii", "utf8", "raw", "binary"]))
    if how == "binary":
        return draw(st.binary(max_size=300))
    if how == "ascii":  # lone surrogates as \ud83d escapes
        return json.dumps(value, ensure_ascii=True).encode("ascii")
    text = json.dumps(value, ensure_ascii=False)
    if how == "raw":  # and as raw (ill-formed) UTF-8 bytes
        return text.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "replace")


QUERY_NAMES = ["action", "session_id", "since", "since_id", "limit", "offset", "active",
               "search", "uid"]


@st.composite
def query_strings(draw) -> str:
    pairs = draw(st.lists(st.tuples(
        st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=8)),
        st.one_of(
            st.text(max_size=30).map(lambda t: quote(t, safe="")),
            st.binary(max_size=12).map(lambda b: quote_from_bytes(b, safe="")),
            st.sampled_from(["s1", "1", "-1", "0", "100", "101", "99999999999999999999", " 5 ",
                             "1e3", "2025-06-01T10:00:00 02:00", "2025-06-01", "true", "%",
                             "_"]),
        ),
    ), max_size=5))
    return "&".join(f"{quote(name, safe='')}={value}" for name, value in pairs)


action_names = st.one_of(
    st.sampled_from(sorted(ACTIONS)),
    st.sampled_from(sorted(ACTIONS)),
    st.sampled_from(sorted(ACTIONS)),
    st.text(max_size=20).filter(lambda n: n != "openapi.json"),
)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF),
                        max_size=60)


@st.composite
def auth_headers(draw, action: str) -> dict:
    choice = draw(st.sampled_from(["none", "right", "right", "api", "admin", "other"]))
    if choice == "none":
        return {}
    if choice == "right":
        spec = ACTIONS.get(action)
        key = KEYS.get(spec.auth) if spec else None
        return {"Authorization": f"Bearer {key}"} if key else {}
    if choice in KEYS:
        return {"Authorization": f"Bearer {KEYS[choice]}"}
    return {"Authorization": draw(header_values)}


@st.composite
def requests(draw) -> dict:
    action = draw(action_names)
    extra = draw(query_strings())
    form = draw(st.sampled_from(["query", "path", "index", "doubled", "bare"]))
    if form == "path":
        path, query = f"/api/v1/{quote(action, safe='')}", extra
    else:
        path = {"query": "/api/v1/", "index": "/api/v1/index.php",
                "doubled": "/api/v1/",
                "bare": "/api/v1"}[form]
        query = f"action={quote(action, safe='')}" + (f"&{extra}" if extra else "")
    # Mostly a method the action takes, so that most requests get past 405.
    right = sorted(ACTIONS[action].handlers) if action in ACTIONS else ["GET"]
    method = draw(st.one_of(st.sampled_from(right), st.sampled_from(right),
                            st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])))
    headers = draw(auth_headers(action))
    content_type = draw(st.sampled_from([
        None, "application/json", "application/json", "text/plain",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
        "application/json; charset=latin-1",
    ]))
    if content_type:
        headers["Content-Type"] = content_type
    body = draw(st.one_of(st.none(), bodies())) if method != "GET" or draw(st.booleans()) \
        else None
    req = {"method": method, "path": path, "query_string": query, "headers": headers,
           "data": body}
    if form == "doubled":
        # Set directly: the test client would read "//api" as a host name.
        req["environ_overrides"] = {"PATH_INFO": "//api/v1/"}
    return req


# -- properties ----------------------------------------------------------------------

@FUZZ
@given(req=requests())
def test_every_request_gets_the_envelope(client, req):
    note(repr(req))
    fuzzed(client.open(**req))


@FUZZ
@given(action=st.sampled_from(sorted(a for a, s in ACTIONS.items() if "POST" in s.handlers)),
       body=bodies(), path_form=st.booleans())
def test_any_body_to_any_post_action_with_the_right_key(client, action, body, path_form):
    spec = ACTIONS[action]
    headers = {"Content-Type": "application/json"}
    if spec.auth in KEYS:
        headers["Authorization"] = f"Bearer {KEYS[spec.auth]}"
    url = f"/api/v1/{action}" if path_form else f"/api/v1/?action={action}"
    body_out = fuzzed(client.post(url, data=body, headers=headers))
    if body_out["success"] is False:
        assert body_out["code"] == 400


@FUZZ
@given(action=st.sampled_from(sorted(a for a, s in ACTIONS.items() if "GET" in s.handlers)),
       query=query_strings(), path_form=st.booleans())
def test_any_query_to_any_get_action_with_the_right_key(client, action, query, path_form):
    spec = ACTIONS[action]
    headers = {"Authorization": f"Bearer {KEYS[spec.auth]}"} if spec.auth in KEYS else {}
    if path_form:
        response = client.get(f"/api/v1/{action}", query_string=query, headers=headers)
    else:
        response = client.get("/api/v1/", query_string=f"action={action}&{query}",
                              headers=headers)
    body = fuzzed(response)
    if body["success"] is False:
        assert body["code"] in (400, 404)


@FUZZ
@given(session_id=json_values | plausible, message=json_values | plausible,
       uid=json_values | plausible)
def test_posting_messages_stores_exactly_what_was_accepted(client, session_id, message, uid):
    payload = json.dumps({"session_id": session_id, "message": message, "uid": uid})
    response = client.post("/api/v1/?action=messages", data=payload,
                           content_type="application/json")
    body = fuzzed(response)
    if body["success"]:
        data = body["data"]
        assert data["session_id"] == session_id
        assert type(data["message_id"]) is int and isinstance(data["is_new_user"], bool)
        assert isinstance(message, str)
        assert message.replace("\x00", "").strip() != ""
        got = client.get("/api/v1/session_messages",
                         query_string={"session_id": session_id},
                         headers={"Authorization": f"Bearer {ADMIN_KEY}"}).get_json()
        stored = [m["message"] for m in got["data"]["messages"]
                  if m["id"] == data["message_id"]]
        assert stored == [message.replace("\x00", "").strip()]
    else:
        assert body["error"] in {"Invalid JSON", "Missing required fields", "Invalid session ID",
                                 "Invalid message"}


# -- specific hostile inputs ---------------------------------------------------------------

def api(client, method, action, *, key=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if key:
        headers["Authorization"] = f"Bearer {KEYS[key]}"
    query = f"action={action}"
    if kwargs.get("query_string"):
        query += "&" + kwargs.pop("query_string")
    return client.open("/api/v1/", method=method, headers=headers, query_string=query, **kwargs)


def error_of(response, status=400):
    body = assert_envelope(response)
    assert body["success"] is False and body["code"] == status, body
    return body["error"]


def count(db, table):
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


POSTS = [("messages", None), ("outbox", "api"), ("config", "admin")]


@pytest.mark.parametrize("action, key", POSTS)
def test_a_body_that_is_not_utf8(client, db, action, key):
    raw = b'{"session_id": "s\xff\xfe1", "message": "caf\xe9", "response": "x"}'
    assert error_of(api(client, "POST", action, key=key, data=raw,
                        content_type="application/json")) == "Invalid JSON"
    assert count(db, "web_chat_messages") == 0


@pytest.mark.parametrize("raw", [
    '{"session_id": "\\ud83d", "message": "hi"}',
    '{"session_id": "s1", "message": "hi \\ud83d"}',
    '{"session_id": "s1", "message": "hi", "\\udc00": 1}',
    '{"session_id": "s1", "message": "hi", "uid": ["\\udfff"]}',
])
def test_an_escaped_lone_surrogate(client, db, raw):
    response = api(client, "POST", "messages", data=raw, content_type="application/json")
    assert error_of(response) == "Invalid JSON"
    assert count(db, "web_chat_sessions") == 0


def test_an_escaped_surrogate_pair_is_one_character(client):
    raw = '{"session_id": "s1", "message": "\\ud83d\\ude00"}'
    body = assert_envelope(api(client, "POST", "messages", data=raw,
                               content_type="application/json"))
    assert body["success"] is True


@pytest.mark.parametrize("depth", [100_000, 5_000, 999, 500])
@pytest.mark.parametrize("shape", ["list", "dict"])
def test_deeply_nested_json(client, db, depth, shape):
    inner = "[" * depth + "]" * depth if shape == "list" else '{"a":' * depth + "1" + "}" * depth
    for action, key, field in [("messages", None, "message"), ("outbox", "api", "response")]:
        raw = '{"session_id": "s1", "%s": %s}' % (field, inner)
        error = error_of(api(client, "POST", action, key=key, data=raw,
                             content_type="application/json"))
        assert error in {"Invalid JSON", f"Invalid {field}", "Invalid or expired session"}
    raw = "[" * depth + "]" * depth
    assert error_of(api(client, "POST", "config", key="admin", data=raw)) == "Invalid JSON"
    assert count(db, "web_chat_messages") == 0


@pytest.mark.parametrize("action, key", POSTS)
def test_a_two_megabyte_body(client, db, action, key):
    raw = json.dumps({"session_id": "s1", "message": "a" * (2 * 1024 * 1024),
                      "response": "b"}).encode()
    assert error_of(api(client, "POST", action, key=key, data=raw,
                        content_type="application/json")) == "Request body too large"
    assert count(db, "web_chat_messages") == 0


def test_a_huge_body_of_junk_to_a_get_action(client):
    body = assert_envelope(api(client, "GET", "health", data=b"\xff" * (2 * 1024 * 1024)))
    assert body["code"] if not body["success"] else body["data"]["status"] == "ok"


def test_nul_bytes_are_removed_from_text(client, db):
    data = assert_envelope(api(client, "POST", "messages",
                               json={"session_id": "s1", "message": "\x00 hi\x00there \x00"}))
    assert data["success"]
    assert db.execute("SELECT message FROM web_chat_messages").fetchone()[0] == "hithere"
    assert error_of(api(client, "POST", "messages",
                        json={"session_id": "s1", "message": "\x00 \x00"})) == \
        "Missing required fields"
    assert error_of(api(client, "POST", "messages",
                        json={"session_id": "s1\x00", "message": "hi"})) == "Invalid session ID"
    assert error_of(api(client, "GET", "responses",
                        query_string="session_id=s1%00")) == "Invalid session ID"
    assert error_of(api(client, "GET", "inbox", key="api",
                        query_string="since=2025-06-01%00")) == "Invalid since parameter"


@pytest.mark.parametrize("unit", ["a", "\U0001f600", "é", "中"])
def test_the_length_limit_counts_characters_after_trimming(client, db, unit):
    exact = " \n\t" + unit * 10_000 + " \r\n"
    body = assert_envelope(api(client, "POST", "messages",
                               json={"session_id": "s1", "message": exact}))
    assert body["success"], body
    stored = db.execute("SELECT message FROM web_chat_messages").fetchone()[0]
    assert stored == unit * 10_000 and len(stored) == 10_000
    assert error_of(api(client, "POST", "messages",
                        json={"session_id": "s1", "message": unit * 10_001})) == "Invalid message"
    assert body["data"]["message_id"] == db.execute(
        "SELECT MAX(id) FROM web_chat_messages").fetchone()[0]
    ok = assert_envelope(api(client, "POST", "outbox", key="api",
                             json={"session_id": "s1", "response": unit * 10_000}))
    assert ok["success"]
    assert error_of(api(client, "POST", "outbox", key="api",
                        json={"session_id": "s1", "response": unit * 10_001})) == \
        "Invalid response"


def test_the_length_limit_follows_the_setting(client):
    assert assert_envelope(api(client, "POST", "config", key="admin",
                               json={"max_message_length": 5}))["success"]
    assert assert_envelope(api(client, "POST", "messages",
                               json={"session_id": "s1", "message": "\U0001f600" * 5}))["success"]
    assert error_of(api(client, "POST", "messages",
                        json={"session_id": "s1", "message": "abcdef"})) == "Invalid message"


@pytest.mark.parametrize("literal", ["1" * 5000, "NaN", "Infinity", "-Infinity", "1e400",
                                     "9223372036854775808", "-1", "0", "1.0", '"1"', "true",
                                     "[1]", "{}"])
def test_odd_message_ids(client, literal):
    assert assert_envelope(api(client, "POST", "messages",
                               json={"session_id": "s1", "message": "q"}))["success"]
    raw = '{"session_id": "s1", "response": "a", "message_id": %s}' % literal
    error = error_of(api(client, "POST", "outbox", key="api", data=raw,
                         content_type="application/json"))
    assert error in {"Invalid message_id", "Invalid JSON"}


@pytest.mark.parametrize("query", [
    "limit=99999999999999999999999", "limit=-1", "limit=0", "limit=1.5", "limit=%00",
    "offset=-5", "since_id=-1", "since_id=9223372036854775808", "since=not-a-time",
    "since=99999-01-01", "since=%ff%fe", "limit=%EF%BC%95",
])
def test_bad_inbox_parameters_are_400s(client, query):
    error = error_of(api(client, "GET", "inbox", key="api", query_string=query))
    name = query.split("=")[0]
    assert name in error


def test_big_limit_is_clamped(client):
    body = assert_envelope(api(client, "GET", "inbox", key="api", query_string="limit=1000"))
    assert body["data"]["pagination"]["limit"] == 100
