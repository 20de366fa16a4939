"""moto's server, answering one request at a time.

moto_server always runs threaded, and its in-memory DynamoDB backend does not
lock: two concurrent TransactWriteItems can both pass the same
attribute_not_exists condition (seen: two live items with one SKU). DynamoDB
itself serializes conflicting transactions, so the integration suite runs
moto serially to test Depot's conditions, not moto's races.
"""

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, DomainDispatcherApplication(create_backend_app),
               threaded=False, request_handler=MotoRequestHandler)
