#!/usr/bin/env python3
"""moto's server, with each request applied atomically.

moto applies a request without any lock, so two concurrent UpdateItem calls on one item can
both read the old item and one write is lost, or two conditional writes can both pass -- a
thing DynamoDB never does (it serialises the writes to an item and applies each request,
transactions included, atomically). The concurrency tests would then fail at random for
moto's reason, not ours. This launcher runs the same moto application with one lock around
each request: every request is atomic, as on AWS, while the races *between* requests that
Fanloop's code must handle (read-then-write, retries, overlapping runs) stay real.

It also makes moto's TransactWriteItems cheap: moto backs up every table a transaction touches
with a deep copy (once per item of the transaction) to roll back a cancelled one, so each
transaction cost grew with the table, and long test runs crawled. Here the transaction runs
without those copies and a cancelled one is rolled back by restoring just the items it names,
saved before it ran. Under the request lock nothing else runs in between, so the effect is the
same: all of the transaction or none of it.

Usage: moto_server.py HOST PORT
"""

import copy
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


def _snapshot(backend, transact_items):
    """(table name, key, deep copy of the item or None) for every item the transaction names."""
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table_name = op["TableName"]
        table = backend.get_table(table_name)
        if "Key" in op:
            key = op["Key"]
        else:
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        saved.append((table_name, key, copy.deepcopy(backend.get_item(table_name, key))))
    return saved


def _restore(backend, saved):
    for table_name, key, item in reversed(saved):
        if item is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, item.to_json()["Attributes"])


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's DynamoDB models during a transaction."""

    def __init__(self, table_class):
        self.table_class = table_class

    def deepcopy(self, value, *args, **kwargs):
        if isinstance(value, self.table_class):
            return value
        return copy.deepcopy(value, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(copy, name)


def install_cheap_transactions():
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    shim = _NoTableCopies(Table)

    def transact_write_items(self, transact_items):
        try:
            saved = _snapshot(self, transact_items)
        except Exception:
            return original(self, transact_items)  # malformed: moto reports it as usual
        models.copy = shim
        try:
            return original(self, transact_items)
        except Exception:
            _restore(self, saved)
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    install_cheap_transactions()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, AtomicRequests(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
