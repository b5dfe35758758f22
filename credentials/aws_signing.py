"""AWS Signature Version 4 for outgoing requests: region and service from the host, and header or query signing."""

import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

ALGORITHM = "AWS4-HMAC-SHA256"
QUERY_SIGNATURE_EXPIRES = 300

# Headers proxies or the HTTP client rewrite on the way (botocore's list): signing them would break the signature.
UNSIGNED_HEADERS = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
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

_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")
_REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_REGION = re.compile(_REGION_PATTERN)
_LAMBDA_URL = re.compile(rf"[^.]+\.lambda-url\.({_REGION_PATTERN})\.on\.aws")
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
    if labels[-1] == "vpce":  # vpce-….execute-api.<region>.vpce.amazonaws.com
        labels.pop()
    if labels[-1] == "s3" or labels[-1] == "s3-external-1":  # the legacy global S3 endpoint
        return "us-east-1", "s3"
    if labels[-1].startswith("s3-") and _REGION.fullmatch(labels[-1].removeprefix("s3-")):
        return labels[-1].removeprefix("s3-"), "s3"
    if len(labels) < 2 or not _REGION.fullmatch(labels[-1]):
        return None, None
    service_labels = [label for label in labels[:-1] if label != "dualstack"]
    if not service_labels:
        return None, None
    return labels[-1], service_labels[-1].removesuffix("-fips")


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
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    payload_hash = hashlib.sha256(body).hexdigest()
    parts = urlsplit(url)
    path = _path_as_sent(parts.path)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in _AUTH_QUERY
    ]
    _reject_duplicate_names(headers)
    sent = {name: value for name, value in headers.items() if name.lower() not in _AUTH_HEADERS}
    sent["X-Amz-Content-Sha256"] = payload_hash
    if sign_query:
        # Query mode signs what header mode signs (host, content type, webhook and custom headers, payload hash).
        signed = _headers_to_sign(sent, url)
        query += [
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", f"{access_key_id}/{scope}"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Expires", str(QUERY_SIGNATURE_EXPIRES)),
            ("X-Amz-SignedHeaders", ";".join(signed)),
        ]
        if session_token:
            query.append(("X-Amz-Security-Token", session_token))
    else:
        sent["X-Amz-Date"] = amz_date
        if session_token:
            sent["X-Amz-Security-Token"] = session_token
        signed = _headers_to_sign(sent, url)

    canonical_request = _canonical_request(
        method=method, path=path, query=query, signed=signed, payload_hash=payload_hash, service=service
    )
    signature = _signature(
        secret_access_key=secret_access_key, amz_date=amz_date, scope=scope, canonical_request=canonical_request
    )
    if sign_query:
        query.append(("X-Amz-Signature", signature))
    else:
        sent["Authorization"] = (
            f"{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={';'.join(signed)}, Signature={signature}"
        )
    query_string = "&".join(f"{name}={value}" for name, value in _encode_query(query))
    return urlunsplit((parts.scheme, parts.netloc, path, query_string, parts.fragment)), sent


def _canonical_request(
    *, method: str, path: str, query: list[tuple[str, str]], signed: dict[str, str], payload_hash: str, service: str
) -> str:
    return "\n".join(
        [
            method.upper(),
            _canonical_uri(path, service=service),
            "&".join(f"{name}={value}" for name, value in sorted(_encode_query(query))),
            *(f"{name}:{value}" for name, value in signed.items()),
            "",
            ";".join(signed),
            payload_hash,
        ]
    )


def _signature(*, secret_access_key: str, amz_date: str, scope: str, canonical_request: str) -> str:
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = f"AWS4{secret_access_key}".encode()
    for part in scope.split("/"):  # date, region, service, "aws4_request"
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _reject_duplicate_names(headers: dict[str, str]) -> None:
    names = [name.lower() for name in headers]
    if len(names) != len(set(names)):
        raise ValueError("headers name the same header twice in different cases; only one of them would be signed")


def _headers_to_sign(headers: dict[str, str], url: str) -> dict[str, str]:
    """Lower-cased names to trimmed values, sorted by name, with host added from the URL when not given."""
    signed = {
        name.lower(): " ".join(value.split()) for name, value in headers.items() if name.lower() not in UNSIGNED_HEADERS
    }
    signed.setdefault("host", _host_header(url))
    return dict(sorted(signed.items()))


def _host_header(url: str) -> str:
    """The Host header an HTTP client sends for the URL: lower-case host, and the port unless it is the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


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


def _canonical_uri(path: str, *, service: str) -> str:
    if service == "s3":  # S3 signs the path as sent; every other service normalises it and encodes it again
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return quote("/" + "/".join(segments) + trailing, safe="/~")


def _encode_query(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Names and values percent-encoded as SigV4 wants them; sent this way, the canonical query is just their sort."""
    return [(quote(name, safe="-_.~"), quote(value, safe="-_.~")) for name, value in pairs]
