"""Secret values the suite uses, so that a test can search everything the suite produced for them."""

PASSWORD = "pw-Kx93-basic-secret"
CLIENT_SECRET = "cs-Zq71-oauth-client-secret"
ACCESS_TOKEN = "at-Mm55-oauth-access-token"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
AWS_SESSION_TOKEN = "st-Pp20-aws-session-token"
HEADER_SECRET = "hv-Ux48-custom-header-api-key"

ALL = (PASSWORD, CLIENT_SECRET, ACCESS_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, HEADER_SECRET)
