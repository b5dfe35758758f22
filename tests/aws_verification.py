"""Recomputing a received request's SigV4 signature with botocore, as an AWS endpoint would.

A received request is anything with `method`, `path` (with its query), `headers` (names lower-cased) and `body`.
"""

import hashlib
from datetime import datetime
from unittest import mock
from urllib.parse import parse_qsl

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def _request(received, *, signed: list[str], query: str) -> AWSRequest:
    """The signed parts as an AWSRequest; the payload hash is recomputed from the body, not trusted."""
    kept = {name: value for name, value in received.headers.items() if name in signed}
    kept["x-amz-content-sha256"] = hashlib.sha256(received.body).hexdigest()
    url = f"https://{received.headers['host']}{received.path.partition('?')[0]}" + (f"?{query}" if query else "")
    return AWSRequest(method=received.method, url=url, headers=kept, data=received.body)


def expected_authorization(received, *, access_key_id: str, secret_access_key: str, region: str, service: str) -> str:
    """The Authorization header botocore computes for a request received in header mode."""
    signed = received.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = _request(received, signed=signed, query=received.path.partition("?")[2])
    token = received.headers.get("x-amz-security-token")
    signer_class = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = signer_class(Credentials(access_key_id, secret_access_key, token), service, region)
    sent_at = datetime.strptime(received.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=sent_at):
        signer.add_auth(request)
    return request.headers["Authorization"]


def expected_query_signature(
    received, *, access_key_id: str, secret_access_key: str, region: str, service: str
) -> tuple[str, str]:
    """(expected, sent) X-Amz-Signature of a request received in query mode; its scope and header list checked."""
    pairs = received.path.partition("?")[2].split("&")
    sent = dict(parse_qsl(received.path.partition("?")[2]))["X-Amz-Signature"]
    query = "&".join(pair for pair in pairs if not pair.startswith("X-Amz-Signature="))
    params = dict(parse_qsl(query))
    assert params["X-Amz-Credential"] == f"{access_key_id}/{params['X-Amz-Date'][:8]}/{region}/{service}/aws4_request"
    request = _request(received, signed=params["X-Amz-SignedHeaders"].split(";"), query=query)
    request.context["timestamp"] = params["X-Amz-Date"]
    signer = SigV4Auth(
        Credentials(access_key_id, secret_access_key, params.get("X-Amz-Security-Token")), service, region
    )
    assert signer.signed_headers(signer.headers_to_sign(request)) == params["X-Amz-SignedHeaders"]
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request), sent
