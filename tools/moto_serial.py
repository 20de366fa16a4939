"""moto's server, answering one request at a time, with DynamoDB's
idempotent TransactWriteItems.

moto_server always runs threaded, and its in-memory DynamoDB backend does not
lock: two concurrent TransactWriteItems can both pass the same
attribute_not_exists condition (seen: two live items with one SKU). DynamoDB
itself serializes conflicting transactions, so the integration suite runs
moto serially to test Depot's conditions, not moto's races.

DynamoDB also makes TransactWriteItems idempotent by ClientRequestToken: a
call repeated with the token of one that succeeded within 10 minutes
succeeds again without writing. The Go SDK sets the token once per call,
before its retries, so a retry of a call that committed but whose answer was
lost (a dropped connection) changes nothing. moto ignores the token, so such
a retry runs the transaction twice, and its conditions fail against the
first run's writes. This wrapper keeps the answer of each successful
transaction by token and replays it, as DynamoDB does.
"""

import io
import json
import sys
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

TOKEN_TTL = 600  # seconds, as DynamoDB


class IdempotentTransactions:
    def __init__(self, app):
        self.app = app
        self.answers = {}  # token -> (expires, status, headers, body)

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
            return self.transact(environ, start_response)
        return self.app(environ, start_response)

    def transact(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            token = json.loads(body or b"{}").get("ClientRequestToken")
        except ValueError:
            token = None
        now = time.monotonic()
        self.answers = {k: v for k, v in self.answers.items() if v[0] > now}
        if token and token in self.answers:
            _, status, headers, data = self.answers[token]
            start_response(status, headers)
            return [data]
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        data = b"".join(self.app(environ, capture))
        if token and captured.get("status", "").startswith("200"):
            self.answers[token] = (now + TOKEN_TTL, captured["status"], captured["headers"], data)
        return [data]


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, IdempotentTransactions(DomainDispatcherApplication(create_backend_app)),
               threaded=False, request_handler=MotoRequestHandler)
