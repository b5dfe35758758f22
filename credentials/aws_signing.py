"""AWS Signature Version 4 for outgoing requests: region and service from the host, and header or query signing."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

QUERY_SIGNATURE_EXPIRES = 300

# Left over from an earlier signing of the same request (a retry); replaced, never signed twice.
_AUTH_HEADERS = frozenset({"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"})
_AUTH_QUERY = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-amz-security-token",
        "x-amz-signature",
    }
)

# The partitions' DNS suffixes, IPv4 and dual-stack (botocore's partitions.json: aws and aws-us-gov, aws-cn).
_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws", ".api.amazonwebservices.com.cn")
_REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_REGION = re.compile(_REGION_PATTERN)
_LAMBDA_URL = re.compile(rf"[^.]+\.lambda-url\.({_REGION_PATTERN})\.on\.aws")
# Host labels whose signing name differs: Kinesis's account endpoints (<account>.data-kinesis.<region>.…).
_SIGNING_NAMES = {"data-kinesis": "kinesis", "control-kinesis": "kinesis"}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|.", re.DOTALL)
_PATH_SAFE = "/!$&'()*+,;=:@"


def aws_region_and_service(*, host: str) -> tuple[str | None, str | None]:
    """The signing region and service of a standard AWS host name, or (None, None) when it is not one."""
    host = host.lower().rstrip(".")
    host = re.sub(r":\d+$", "", host)
    if match := _LAMBDA_URL.fullmatch(host):
        return match.group(1), "lambda"
    suffix = next((suffix for suffix in _AWS_SUFFIXES if host.endswith(suffix)), None)
    if suffix is None:
        return None, None
    labels = host.removesuffix(suffix).split(".")
    if len(labels) > 1 and labels[-1] == "vpce":  # vpce-….execute-api.<region>.vpce.amazonaws.com
        labels.pop()
    if labels[-1] == "s3" or labels[-1] == "s3-external-1":  # the legacy global S3 endpoint
        return "us-east-1", "s3"
    if labels == ["queue"]:  # SQS's legacy endpoints: queue.amazonaws.com and <region>.queue.amazonaws.com
        return "us-east-1", "sqs"
    if len(labels) == 2 and labels[1] == "queue" and _REGION.fullmatch(labels[0]):
        return labels[0], "sqs"
    if labels[-1].startswith("s3-") and _REGION.fullmatch(labels[-1].removeprefix("s3-")):
        return labels[-1].removeprefix("s3-"), "s3"
    if len(labels) < 2 or not _REGION.fullmatch(labels[-1]):
        return None, None
    service_labels = [label for label in labels[:-1] if label != "dualstack"]
    if not service_labels:
        return None, None
    service = service_labels[-1].removesuffix("-fips")
    return labels[-1], _SIGNING_NAMES.get(service, service)


def aws_sign(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    region: str,
    service: str,
    sign_query: bool,
    now: datetime | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign a request with SigV4; returns the URL and the complete headers to send with the unchanged body.

    The URL comes back with its path and query percent-encoded the way they go on the wire, since that is
    what the receiver canonicalises. `now` defaults to the current time; a naive datetime is taken as UTC.
    """
    moment = datetime.now(UTC) if now is None else now.replace(tzinfo=now.tzinfo or UTC).astimezone(UTC)
    _reject_duplicate_names(headers)
    parts = urlsplit(url)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in _AUTH_QUERY
    ]
    # botocore canonicalises the path and query as they stand in the URL, so they go in encoded as sent.
    request = AWSRequest(
        method=method,
        url=urlunsplit((parts.scheme, parts.netloc, _path_as_sent(parts.path), percent_encode_sequence(query), "")),
        headers={name: value for name, value in headers.items() if name.lower() not in _AUTH_HEADERS},
        data=body,
    )
    credentials = Credentials(access_key_id, secret_access_key, session_token)
    if sign_query:
        signer = _QuerySigner(credentials, service, region, expires=QUERY_SIGNATURE_EXPIRES)
    else:
        signer = _HeaderSigner(credentials, service, region)
    request.headers["X-Amz-Content-Sha256"] = signer.payload(request)
    # add_auth itself reads the clock, so its steps are run here at the given time.
    request.context["timestamp"] = moment.strftime(SIGV4_TIMESTAMP)
    signer._modify_request_before_signing(request)
    canonical_request = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical_request), request)
    signer._inject_signature_to_request(request, signature)
    fragment = f"#{parts.fragment}" if parts.fragment else ""  # kept off the URL botocore appends the signature to
    return request.url + fragment, dict(request.headers.items())


class _HeaderSigner(SigV4Auth):
    def _normalize_url_path(self, path: str) -> str:
        # S3 signs the path as sent (as botocore's S3SigV4Auth does, without its S3 payload-header handling).
        return path if self._service_name == "s3" else super()._normalize_url_path(path)

    def _set_necessary_date_headers(self, request: AWSRequest) -> None:
        # botocore would rewrite a caller's Date header to the signing time instead of adding X-Amz-Date.
        request.headers["X-Amz-Date"] = request.context["timestamp"]


class _QuerySigner(_HeaderSigner, SigV4QueryAuth):
    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        # botocore's version folds repeated query names into one, moves the body into the query and drops a
        # form content type; this only appends the auth parameters, signing the same headers as header mode.
        auth_params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": self.scope(request),
            "X-Amz-Date": request.context["timestamp"],
            "X-Amz-Expires": self._expires,
            "X-Amz-SignedHeaders": self.signed_headers(self.headers_to_sign(request)),
        }
        if self.credentials.token:
            auth_params["X-Amz-Security-Token"] = self.credentials.token
        request.url += ("&" if urlsplit(request.url).query else "?") + percent_encode_sequence(auth_params)


def _reject_duplicate_names(headers: dict[str, str]) -> None:
    names = [name.lower() for name in headers]
    if len(names) != len(set(names)):
        raise ValueError("headers name the same header twice in different cases; only one of them would be signed")


def _path_as_sent(path: str) -> str:
    """The path as clients put it on the wire: escapes of unreserved characters decoded, others upper-cased, the rest
    percent-encoded, so an HTTP client sends it unchanged."""

    def normalise(match: re.Match[str]) -> str:
        token = match.group()
        if len(token) == 3:
            char = chr(int(token[1:], 16))
            return char if char in _UNRESERVED else token.upper()
        return quote(token, safe=_PATH_SAFE)

    return _PATH_TOKEN.sub(normalise, path) or "/"
