#!/usr/bin/env python3
"""moto's server, with each request applied atomically.

moto applies a request without any lock, so two concurrent UpdateItem calls on one item can
both read the old item and one write is lost, or two conditional writes can both pass -- a
thing DynamoDB never does (it serialises the writes to an item and applies each request,
transactions included, atomically). The concurrency tests would then fail at random for
moto's reason, not ours. This launcher runs the same moto application with one lock around
each request: every request is atomic, as on AWS, while the races *between* requests that
Fanloop's code must handle (read-then-write, retries, overlapping runs) stay real.

Usage: moto_server.py HOST PORT
"""

import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class AtomicRequests:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, AtomicRequests(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
