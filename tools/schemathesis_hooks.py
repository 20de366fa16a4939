"""schemathesis hooks of `make contract` (tools/schemathesis.sh).

A client sends a new Idempotency-Key with every new request (that is what the
key is for) and repeats a key only to retry the same request. Hypothesis
reuses the values it draws across requests (a short key such as "0" recurs,
and a mutated case keeps its key), so a correct API answers such a repeat
with a different body 422 idempotency_key_reused, as openapi.yaml says.
This hook makes the test client behave as a client should: just before a
request is sent, a well-formed key of a request meant to be valid (positive)
becomes a fresh one. Negative requests are left as they are (changing one
would make schemathesis revalidate it and drop what it means to leave out,
such as the Authorization header), so ill-formed keys still get their 400
invalid_header; key reuse and replay are tested by internal/itest. Likewise
a positive transfer names two different locations (see below).
"""

import re
import uuid

import schemathesis

# internal/httpapi.IdempotencyKeyPattern, as openapi.yaml states it.
WELL_FORMED = re.compile(r"[!-~]([ -~]{0,198}[!-~])?")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and WELL_FORMED.fullmatch(value):
            headers[name] = str(uuid.uuid4())
    # A transfer moves stock between two different locations; no schema can
    # say that two members differ, so a positive case that names one
    # location twice is made to name two, as a client would.
    body = case.body
    if case.path == "/transfers" and isinstance(body, dict) and body.get("fromLocationId") == body.get("toLocationId"):
        body["toLocationId"] = "default" if body.get("fromLocationId") != "default" else "01JDQ5C3N6V9X2A5D8G1J4M7Q0"

