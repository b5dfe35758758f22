"""A small client of Outflow's public API over pooled keep-alive connections (urllib3)."""

import json

import urllib3

API_TIMEOUT = urllib3.Timeout(connect=5.0, read=60.0)


def connection_pool(url: str, *, maxsize: int) -> urllib3.HTTPConnectionPool:
    return urllib3.connectionpool.connection_from_url(url, maxsize=maxsize, block=True, retries=False)


class ApiFailure(RuntimeError):
    pass


class OutflowApi:
    def __init__(self, *, base_url: str, api_key: str, connections: int = 8):
        self._pool = connection_pool(base_url, maxsize=connections)
        self._headers = {"authorization": f"Bearer {api_key}", "content-type": "application/json"}

    def _call(self, method: str, path: str, body: bytes | None, expect: int) -> dict | None:
        response = self._pool.urlopen(method, path, body=body, headers=self._headers, timeout=API_TIMEOUT)
        if response.status != expect:
            raise ApiFailure(f"{method} {path} answered {response.status}: {response.data[:500]!r}")
        return json.loads(response.data) if response.data else None

    def events_post(self, body: bytes) -> dict:
        return self._call("POST", "/api/v1/events", body, 202)

    def subscription_create(self, *, name: str, url: str, payload_filter: dict | None = None) -> str:
        body = json.dumps(
            {"name": name, "event_types": ["card-completed"], "url": url, "filter": payload_filter}
        ).encode()
        return self._call("POST", "/api/v1/subscriptions", body, 201)["id"]

    def subscription_delete(self, subscription_id: str) -> None:
        self._call("DELETE", f"/api/v1/subscriptions/{subscription_id}", None, 204)

    def get(self, path: str) -> dict | None:
        return self._call("GET", path, None, 200)

    def get_text(self, path: str) -> str:
        response = self._pool.urlopen("GET", path, headers=self._headers, timeout=API_TIMEOUT)
        if response.status != 200:
            raise ApiFailure(f"GET {path} answered {response.status}: {response.data[:500]!r}")
        return response.data.decode()

    def recover(self, subscription_id: str, *, since: str) -> dict:
        body = json.dumps({"since": since}).encode()
        return self._call("POST", f"/api/v1/subscriptions/{subscription_id}/recover", body, 200)

    def healthy(self) -> bool:
        try:
            return self._pool.urlopen("GET", "/healthz", timeout=urllib3.Timeout(total=2.0)).status == 200
        except urllib3.exceptions.HTTPError:
            return False
