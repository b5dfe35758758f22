"""CPU per request of urllib3 (what `requests` runs on) and of pycurl, posting a webhook-sized body to a receiver.

`python -m bench.http_clients --url http://127.0.0.1:PORT/x` against any receiver answering 204 (e.g. the bench's
nginx); one line of JSON per client and thread count. Why Outflow's outgoing client is libcurl.
"""

import argparse
import json
import threading
import time

import pycurl
import urllib3

BODY = b"x" * 1100
HEADERS = {
    "content-type": "application/json",
    "webhook-id": "msg_1",
    "webhook-timestamp": "1700000000",
    "webhook-signature": "v1,abcdefabcdef",
    "user-agent": "Outflow-Webhooks/1.0.0",
}


def with_urllib3(url: str, count: int) -> None:
    pools = urllib3.PoolManager(retries=False)
    for _ in range(count):
        response = pools.urlopen(
            "POST", url, body=BODY, headers=HEADERS, timeout=urllib3.Timeout(connect=2, read=2), redirect=False
        )
        response.release_conn()


def with_pycurl(url: str, count: int) -> None:
    handle = pycurl.Curl()
    lines = [f"{name}: {value}" for name, value in HEADERS.items()]
    for _ in range(count):
        handle.reset()
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.POSTFIELDS, BODY)
        handle.setopt(pycurl.HTTPHEADER, lines)
        handle.setopt(pycurl.WRITEFUNCTION, len)
        handle.setopt(pycurl.TIMEOUT_MS, 2000)
        handle.perform()


def measure(client, url: str, *, requests: int, threads: int) -> dict:
    workers = [threading.Thread(target=client, args=(url, requests // threads)) for _ in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "client": client.__name__.removeprefix("with_"),
        "threads": threads,
        "cpu_us_per_request": round(cpu / requests * 1e6, 1),
        "requests_per_second": round(requests / wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=5000)
    arguments = parser.parse_args()
    for client in (with_urllib3, with_pycurl):
        for threads in (1, 8):
            print(json.dumps(measure(client, arguments.url, requests=arguments.requests, threads=threads)))


if __name__ == "__main__":
    main()
