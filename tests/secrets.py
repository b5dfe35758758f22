"""Secret values the suite uses, so that a test can search everything the suite produced for them."""

PASSWORD = "pw-Kx93-basic-secret"
CLIENT_SECRET = "cs-Zq71-oauth-client-secret"
ACCESS_TOKEN = "at-Mm55-oauth-access-token"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
AWS_SESSION_TOKEN = "st-Pp20-aws-session-token"
HEADER_SECRET = "hv-Ux48-custom-header-api-key"

ALL = (PASSWORD, CLIENT_SECRET, ACCESS_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, HEADER_SECRET)


def credential_payloads(*, token_url: str, oauth_request_scheme: str = "body") -> list[dict]:
    """One credential of each type, as the API takes it, holding every secret above that the type has."""
    return [
        {"type": "basic_auth", "username": "u", "password": PASSWORD},
        {
            "type": "oauth_client_credentials",
            "token_url": token_url,
            "client_id": "c",
            "client_secret": CLIENT_SECRET,
            "request_scheme": oauth_request_scheme,
        },
        {
            "type": "aws_signed_request",
            "access_key_id": "AKIDEXAMPLE",
            "region": "eu-west-1",
            "service": "sqs",
            "secret_access_key": AWS_SECRET_ACCESS_KEY,
            "session_token": AWS_SESSION_TOKEN,
            "sign_query": True,
        },
    ]
