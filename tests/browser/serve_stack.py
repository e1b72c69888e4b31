"""Starts the real ownmail stack for the browser test and keeps it up.

Reuses tests/integration/harness.py: harness.Api() starts a private Redis and
ownmail-api on free loopback ports, serving web/ from OWNMAIL_SOURCE_DIR. Prints
one JSON line {"url", "user", "password"} on stdout, then waits until stdin is
closed (the test ends or dies) and stops everything. Exits non-zero when the
api did not stop cleanly (crash or sanitizer report).

Arguments: optional `key=value` configuration settings for the api
(e.g. `api.jwt_ttl=60`), added to the harness defaults.

Environment: OWNMAIL_BIN_DIR, OWNMAIL_SOURCE_DIR (as for the integration tests).
"""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness  # noqa: E402


class Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler: shut down like a closed stdin."""


def _stop(_signum, _frame):
    raise Stop()


def main():
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    extra = dict(arg.split("=", 1) for arg in sys.argv[1:])
    api = harness.Api(extra_config=extra)
    try:
        api.start()
        print(json.dumps({"url": api.url, "user": api.admin_user,
                          "password": api.admin_password, "log": api.log_path}), flush=True)
        while sys.stdin.buffer.read1(4096):
            pass
    except Stop:
        pass
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
