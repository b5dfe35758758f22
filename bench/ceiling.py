"""The raw ceiling: one Python process posting the same 1 KiB event in a loop over one pooled urllib3 connection.

`python -m bench.ceiling --url URL --requests N --seconds S` prints `{"requests": n, "seconds": s}`.
"""

import argparse
import json
import time
from urllib.parse import urlsplit

from bench.api import connection_pool
from bench.load import event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    arguments = parser.parse_args()
    pool = connection_pool(arguments.url, maxsize=1)
    path = urlsplit(arguments.url).path
    body = json.dumps(event(event_id="ceiling"), separators=(",", ":")).encode()
    headers = {"content-type": "application/json"}
    sent = 0
    started = time.monotonic()
    while sent < arguments.requests and time.monotonic() - started < arguments.seconds:
        response = pool.urlopen("POST", path, body=body, headers=headers)
        if not 200 <= response.status < 300:
            raise RuntimeError(f"the receiver answered {response.status}")
        sent += 1
    print(json.dumps({"requests": sent, "seconds": time.monotonic() - started}))


if __name__ == "__main__":
    main()
