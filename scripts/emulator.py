#!/usr/bin/env python3
"""The AWS API emulator of the local stack and the tests: moto's server, one request at a time.

`moto_server` serves requests on several threads, and moto's DynamoDB does not isolate them: a
TransactWriteItems checks its conditions, applies its writes and, on failure, restores a copy
of the whole table taken before — so two concurrent conditional rotations of one session can
both pass `current_hash = :from`, and a rollback can undo another request's committed write.
DynamoDB applies each conditional write and transaction atomically, so a test of a race run
on `moto_server` fails at random (or passes for the wrong reason). Here every request holds
one lock while moto handles it: conditional writes and transactions are atomic, as on AWS.
Requests still interleave at request granularity, which is what the races under test need.

Usage: emulator.py [-H HOST] [-p PORT]; port 0 picks a free port, reported as moto_server
reports it (" * Running on http://HOST:PORT").
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def one_at_a_time(app):
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # moto builds the whole response inside the call; materialise it under the lock.
            return list(app(environ, start_response))

    return serialised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    # Threads still accept and parse requests, so a slow client cannot stall the others.
    run_simple(args.host, args.port, one_at_a_time(app), threaded=True)


if __name__ == "__main__":
    main()
