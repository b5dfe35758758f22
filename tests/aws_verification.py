"""Recomputing a received request's SigV4 signature with botocore, as an AWS endpoint would."""

import hashlib
from datetime import datetime
from unittest import mock
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def _request(*, method: str, path: str, headers: dict[str, str], body: bytes, signed: list[str], query: str):
    kept = {name: value for name, value in headers.items() if name in signed}
    kept["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    url = f"http://{headers['host']}{path.partition('?')[0]}" + (f"?{query}" if query else "")
    return AWSRequest(method=method, url=url, headers=kept, data=body)


def expected_authorization(received, *, access_key_id: str, secret_access_key: str, region: str, service: str) -> str:
    """The Authorization header botocore computes for a request received in header mode."""
    signed = received.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = _request(
        method=received.method,
        path=received.path,
        headers=received.headers,
        body=received.body,
        signed=signed,
        query=received.path.partition("?")[2],
    )
    token = received.headers.get("x-amz-security-token")
    signer = SigV4Auth(Credentials(access_key_id, secret_access_key, token), service, region)
    sent_at = datetime.strptime(received.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=sent_at):
        signer.add_auth(request)
    return request.headers["Authorization"]


def expected_query_signature(received, *, access_key_id: str, secret_access_key: str, region: str, service: str):
    """(expected, sent) X-Amz-Signature of a request received in query mode."""
    pairs = received.path.partition("?")[2].split("&")
    sent = dict(parse_qsl(received.path.partition("?")[2]))["X-Amz-Signature"]
    query = "&".join(pair for pair in pairs if not pair.startswith("X-Amz-Signature="))
    params = dict(parse_qsl(query))
    request = _request(
        method=received.method,
        path=received.path,
        headers=received.headers,
        body=received.body,
        signed=params["X-Amz-SignedHeaders"].split(";"),
        query=query,
    )
    request.context["timestamp"] = params["X-Amz-Date"]
    signer = SigV4Auth(
        Credentials(access_key_id, secret_access_key, params.get("X-Amz-Security-Token")), service, region
    )
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request), sent
