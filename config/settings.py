"""Django settings, all read from the environment (django-environ); see API.md for the variables."""

import base64
import hashlib
import re
import sqlite3
import ssl
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Local state of a server-less run (SQLite, embedded broker, file cache, beat schedule).
VAR_DIR = Path(env.str("OUTFLOW_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
if "SECRET_KEY" not in env and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
SECRET_KEY = env.str("SECRET_KEY", default="outflow-dev-only-secret-key-not-for-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First: its templates (the Workbench's admin/base_site.html) take the place of the admin's own.
    "tenancy",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "subscriptions",
    "credentials",
    "mapping",
    "requestlog",
    "notifications",
    "audit",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tenancy.sign_in.RequireMfaMiddleware",
    "tenancy.actors.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
APPEND_SLASH = False
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'outflow.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with every wait on the server bounded in web, worker and beat (config/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # A database host that does not answer (a partition, a frozen server) is a quick 503, not a thread held for the
    # kernel's TCP timeout of minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=3)
    )
# The longest the web waits for one answer of the database (a statement, or one chunk of a COPY): an API call meets a
# server that stopped answering with a 503 within about this long (config/postgresql/base.py).
DATABASE_ANSWER_TIMEOUT_SECONDS = env.float("DATABASE_ANSWER_TIMEOUT_SECONDS", default=5.0)
# The same for the worker and beat: above the longest batch statement a task runs (purge, recovery, request log COPY).
DATABASE_TASK_ANSWER_TIMEOUT_SECONDS = env.float("DATABASE_TASK_ANSWER_TIMEOUT_SECONDS", default=30.0)
# statement_timeout of those processes' connections: what the server goes on doing for a client that gave up is
# bounded too, above ingest's COPY of its largest batch (50,000 deliveries: 2.3-4.2 s measured on a loaded machine).
DATABASE_STATEMENT_TIMEOUT_SECONDS = env.float("DATABASE_STATEMENT_TIMEOUT_SECONDS", default=60.0)
# The longest the health check of a kept connection (SELECT 1) waits before the connection is replaced.
DATABASE_HEALTH_CHECK_TIMEOUT_SECONDS = env.float("DATABASE_HEALTH_CHECK_TIMEOUT_SECONDS", default=1.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if sqlite3.sqlite_version_info < (3, 35):
        # A batch is claimed with UPDATE ... RETURNING (delivery/attempts.py).
        raise ImproperlyConfigured(f"Outflow needs SQLite 3.35 or newer; this Python has {sqlite3.sqlite_version}")
    # SQLite shared by web, worker and beat: wait for the writer instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}"),
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.redis_cache.RedisCache"
    # A Redis that is down or hung fails a cache call fast (the limits then fail open) instead of holding a thread.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {
            "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT_SECONDS", default=0.5),
            "socket_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=0.5),
        }
    )

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# One date format across the Workbench, with its time zone (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenancy.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenancy.authentication.HasEnvironment", "tenancy.scopes.ApiKeyScope"],
    "DEFAULT_PARSER_CLASSES": ["config.json_parser.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.LimitOffset",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["tenancy.throttling.ApiRateThrottle"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Outflow API",
    "DESCRIPTION": "Webhook delivery of analytics events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.error_responses"],
}

# Celery: the database is the truth, the broker only wakes workers up (see DESIGN.md).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
    }
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A broker that is down or hung fails a publish fast; above the consumer's 1 s BRPOP, so idle workers are fine.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}
    # kombu's Redis transport with a guard that keeps a worker alive when Redis dies under load (config/redis_broker.py)
    CELERY_BROKER_TRANSPORT = "config.redis_broker:Transport"
    if CELERY_BROKER_URL.startswith("rediss://"):
        # Named by class, the transport no longer gets kombu's default for the rediss scheme (TLS without checking the
        # certificate): TLS with the certificate checked against the system's CAs.
        CELERY_BROKER_USE_SSL = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
# A publish retries once, quickly (Celery's default is three times); ingest tries once and leaves the rest to the
# sweeper (delivery/wakes.py), the rows being stored.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
# Workers reconnect to the broker for as long as it takes (Celery's default gives up after 100 tries).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "outflow"
# Notifications have a queue and a worker process of their own (Procfile's `notifier`): a backlog of deliveries
# never holds a notification back, nor the other way round.
OUTFLOW_NOTIFICATION_QUEUE = "outflow-notifications"
CELERY_TASK_ROUTES = {"notifications.tasks.*": {"queue": OUTFLOW_NOTIFICATION_QUEUE}}
# Celery's Django fix-up closes every database connection around every task unless this is set; then it closes
# them only every 2 × this many tasks, and config/celery.py applies CONN_MAX_AGE and health checks instead.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule"))

# Outflow's own settings, named as in API.md.
OUTFLOW_VERSION = "1.0.0"
OUTFLOW_RETRY_BASE_SECONDS = env.float("OUTFLOW_RETRY_BASE_SECONDS", default=10.0)
OUTFLOW_RETRY_MAX_DELAY_SECONDS = env.float("OUTFLOW_RETRY_MAX_DELAY_SECONDS", default=14400.0)
OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS = env.float("OUTFLOW_RETRY_COUNTDOWN_MAX_SECONDS", default=60.0)
OUTFLOW_REQUEST_TIMEOUT_SECONDS = env.float("OUTFLOW_REQUEST_TIMEOUT_SECONDS", default=15.0)
OUTFLOW_ALLOW_PRIVATE_TARGETS = env.bool("OUTFLOW_ALLOW_PRIVATE_TARGETS", default=False)
# Every outgoing request leaves through this proxy (http://, https://, socks5://); empty: straight out.
OUTFLOW_OUTBOUND_PROXY_URL = env.str("OUTFLOW_OUTBOUND_PROXY_URL", default="")
# A delivery the proxy failed waits this long, uncounted, before it goes again.
OUTFLOW_PROXY_RETRY_SECONDS = env.float("OUTFLOW_PROXY_RETRY_SECONDS", default=10.0)
# A TLS credential whose certificate expires within this many days is named in /metrics and the Workbench.
OUTFLOW_TLS_EXPIRY_WARNING_DAYS = 14
OUTFLOW_OAUTH_TOKEN_TTL_SECONDS = env.int("OUTFLOW_OAUTH_TOKEN_TTL_SECONDS", default=45)
OUTFLOW_MAPPING_TIMEOUT_MS = env.int("OUTFLOW_MAPPING_TIMEOUT_MS", default=50)
OUTFLOW_MAPPING_MEMORY_BYTES = env.int("OUTFLOW_MAPPING_MEMORY_MB", default=32) * 1024 * 1024
OUTFLOW_MAPPING_OUTPUT_BYTES = 256 * 1024
OUTFLOW_MAPPING_LOG_CHARS = 64 * 1024
OUTFLOW_MAPPING_SCRIPT_BYTES = 64 * 1024
# An auto-disable subscription pauses after this many consecutive deliveries failed by its mapping (one odd event
# fails only its own delivery).
OUTFLOW_MAPPING_ERRORS_TO_PAUSE = env.int("OUTFLOW_MAPPING_ERRORS_TO_PAUSE", default=10)
OUTFLOW_MAPPING_PROCESSES = env.int("OUTFLOW_MAPPING_PROCESSES", default=2)
# Environments whose V8 isolates a sandbox process keeps (least recently used dropped): ~2.6 MiB each once used.
OUTFLOW_MAPPING_ISOLATES = env.int("OUTFLOW_MAPPING_ISOLATES", default=50)
OUTFLOW_REQUEST_LOG_RETENTION_DAYS = env.int("OUTFLOW_REQUEST_LOG_RETENTION_DAYS", default=30)
OUTFLOW_EVENT_RETENTION_DAYS = env.int("OUTFLOW_EVENT_RETENTION_DAYS", default=30)
OUTFLOW_AUDIT_LOG_RETENTION_DAYS = env.int("OUTFLOW_AUDIT_LOG_RETENTION_DAYS", default=365)
OUTFLOW_MAX_EVENT_BYTES = env.int("OUTFLOW_MAX_EVENT_BYTES", default=262144)
OUTFLOW_MAX_BATCH = env.int("OUTFLOW_MAX_BATCH", default=500)
# Retry-After of a 503 `unavailable` answered while the database is unreachable (config/errors.py).
OUTFLOW_UNAVAILABLE_RETRY_AFTER_SECONDS = env.int("OUTFLOW_UNAVAILABLE_RETRY_AFTER_SECONDS", default=5)
# Bearer token /metrics asks for; empty: /metrics is public (for a web port only the scraper reaches).
OUTFLOW_METRICS_TOKEN = env.str("OUTFLOW_METRICS_TOKEN", default="")
# Deepest nesting of objects and arrays in a request body (config/json_parser.py).
OUTFLOW_MAX_JSON_DEPTH = env.int("OUTFLOW_MAX_JSON_DEPTH", default=64)
OUTFLOW_MAX_REQUEST_BYTES = env.int("OUTFLOW_MAX_REQUEST_BYTES", default=10 * 1024 * 1024)
OUTFLOW_MAX_SUBSCRIPTIONS = env.int("OUTFLOW_MAX_SUBSCRIPTIONS", default=100)
# A subscription's payload filter (subscriptions/payload_filters.py): its compact JSON, nesting and paths named.
OUTFLOW_FILTER_MAX_BYTES = 4096
OUTFLOW_FILTER_MAX_DEPTH = 8
OUTFLOW_FILTER_MAX_PATHS = 64
OUTFLOW_RESPONSE_BODY_LIMIT_BYTES = 65536
OUTFLOW_SECRET_ROTATION_HOURS = 24
OUTFLOW_SWEEP_INTERVAL_SECONDS = env.float("OUTFLOW_SWEEP_INTERVAL_SECONDS", default=5.0)
OUTFLOW_LEASE_MARGIN_SECONDS = env.float("OUTFLOW_LEASE_MARGIN_SECONDS", default=15.0)
OUTFLOW_REQUEUE_GRACE_SECONDS = env.float("OUTFLOW_REQUEUE_GRACE_SECONDS", default=30.0)
OUTFLOW_SWEEP_BATCH = 1000
OUTFLOW_DELIVERY_BATCH = env.int("OUTFLOW_DELIVERY_BATCH", default=100)
OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION = env.int("OUTFLOW_MAX_IN_FLIGHT_PER_SUBSCRIPTION", default=4)
# How long one drain sends before it goes to the back of the queue, behind other subscriptions' drains.
OUTFLOW_DRAIN_SLICE_SECONDS = env.float("OUTFLOW_DRAIN_SLICE_SECONDS", default=1.0)
# Where the drains' coordination keys live (delivery/coordination/): Redis when the cache is Redis, else the cache.
OUTFLOW_COORDINATION_BACKEND = env.str(
    "OUTFLOW_COORDINATION_BACKEND",
    default="delivery.coordination.redis.RedisCoordination"
    if CACHES["default"]["BACKEND"] == "config.redis_cache.RedisCache"
    else "delivery.coordination.local.LocalCoordination",
)
# A subscription's rate_limit counts permits in a window of one second plus this margin (delivery/rate_limit.py),
# so what happens between a permit and the request's arrival cannot put one second over the limit at the receiver.
OUTFLOW_RATE_LIMIT_MARGIN_SECONDS = env.float("OUTFLOW_RATE_LIMIT_MARGIN_SECONDS", default=0.1)
# While Redis is unreachable a rate-limited delivery is not sent; it is tried again after this long.
OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS = env.float("OUTFLOW_RATE_LIMIT_UNAVAILABLE_WAIT_SECONDS", default=5.0)
# Per-environment limits (tenancy/throttling.py): API requests per period, as DRF writes rates.
OUTFLOW_API_RATE = env.str("OUTFLOW_API_RATE", default="100/s")
OUTFLOW_INGEST_RATE = env.str("OUTFLOW_INGEST_RATE", default="1000/s")
# Interactive calls (Send Request, Send test, mapping preview) in flight: per environment across all web processes,
# and per web process whatever the environment, below the process's threads (Procfile).
OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT = env.int("OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT", default=2)
OUTFLOW_INTERACTIVE_CALLS_PER_PROCESS = env.int("OUTFLOW_INTERACTIVE_CALLS_PER_PROCESS", default=2)
for _name in ("OUTFLOW_API_RATE", "OUTFLOW_INGEST_RATE"):
    if not re.fullmatch(r"[1-9][0-9]*/[smhd][a-z]*", globals()[_name]):
        raise ImproperlyConfigured(f"{_name} must be a number of requests per s, m, h or d, such as 100/s")
for _name in ("OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT", "OUTFLOW_INTERACTIVE_CALLS_PER_PROCESS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api": OUTFLOW_API_RATE, "ingest": OUTFLOW_INGEST_RATE}

DATA_UPLOAD_MAX_MEMORY_SIZE = OUTFLOW_MAX_REQUEST_BYTES

# Operational notifications (notifications/): mail goes through Django's email backend, the console's by default
# (make run prints it); smtp://user:password@host:587 or smtp+tls://… for a real server.
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("OUTFLOW_NOTIFICATION_FROM_EMAIL", default="Outflow <outflow@localhost>")
# A mail server that hangs holds a worker thread no longer than an attempt's deadline.
EMAIL_TIMEOUT = OUTFLOW_REQUEST_TIMEOUT_SECONDS
OUTFLOW_NOTIFICATION_MAX_EMAILS = env.int("OUTFLOW_NOTIFICATION_MAX_EMAILS", default=10)
OUTFLOW_NOTIFICATION_MAX_ATTEMPTS = env.int("OUTFLOW_NOTIFICATION_MAX_ATTEMPTS", default=15)
# delivery.failed of one subscription: at most one notification in this long, with the count of failures.
OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS = env.float("OUTFLOW_DELIVERY_FAILED_INTERVAL_SECONDS", default=3600.0)
# subscription.paused (and .resumed) of one subscription: at most this many an hour, then one with the count.
OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR = env.int(
    "OUTFLOW_SUBSCRIPTION_STATE_NOTIFICATIONS_PER_HOUR", default=3
)
# Confirmation mails of notification addresses: one per address in this long, this many a day per environment to
# addresses still unconfirmed, and a link that confirms for this long.
OUTFLOW_NOTIFICATION_CONFIRMATION_INTERVAL_SECONDS = env.float(
    "OUTFLOW_NOTIFICATION_CONFIRMATION_INTERVAL_SECONDS", default=3600.0
)
OUTFLOW_NOTIFICATION_CONFIRMATIONS_PER_DAY = env.int("OUTFLOW_NOTIFICATION_CONFIRMATIONS_PER_DAY", default=20)
OUTFLOW_NOTIFICATION_CONFIRMATION_MAX_AGE_SECONDS = env.int(
    "OUTFLOW_NOTIFICATION_CONFIRMATION_MAX_AGE_SECONDS", default=3 * 24 * 3600
)
# Where the web is reached from outside: the confirmation links in mails start with it.
OUTFLOW_PUBLIC_URL = env.str("OUTFLOW_PUBLIC_URL", default="http://127.0.0.1:8000")

# Workbench sign-in (tenancy/sign_in.py, tenancy/sso.py). Passwords, then a TOTP code where the member has a device
# (where OUTFLOW_REQUIRE_MFA is on, every member must add one); or single sign-on through an OpenID Connect provider.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "tenancy.sso.MemberSsoBackend"]
OUTFLOW_REQUIRE_MFA = env.bool("OUTFLOW_REQUIRE_MFA", default=False)
# A code of the step before or after the current one is accepted too (clocks drift); each wrong code doubles the wait
# before the next try (django-otp's throttling), starting at this many seconds.
OUTFLOW_TOTP_TOLERANCE_STEPS = 1
OUTFLOW_TOTP_THROTTLE_FACTOR = 1
OUTFLOW_TOTP_ISSUER = "Outflow Workbench"
OUTFLOW_OIDC_ISSUER = env.str("OUTFLOW_OIDC_ISSUER", default="").rstrip("/")
OUTFLOW_OIDC_CLIENT_ID = env.str("OUTFLOW_OIDC_CLIENT_ID", default="")
OUTFLOW_OIDC_CLIENT_SECRET = env.str("OUTFLOW_OIDC_CLIENT_SECRET", default="")
# The provider's discovery document is fetched when first needed and kept this long.
OUTFLOW_OIDC_DISCOVERY_TTL_SECONDS = 3600
# mozilla-django-oidc's own settings; the endpoints come from the discovery document (tenancy/oidc_discovery.py).
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email"
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_TIMEOUT = env.float("OUTFLOW_OIDC_TIMEOUT_SECONDS", default=5.0)
OIDC_AUTHENTICATION_CALLBACK_URL = "workbench-sso-callback"
LOGIN_REDIRECT_URL = "admin:index"
LOGIN_REDIRECT_URL_FAILURE = "admin:login"

FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
if not FIELD_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")
    FIELD_ENCRYPTION_KEY = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]

CELERY_BEAT_SCHEDULE = {
    "sweep-notifications": {
        "task": "notifications.tasks.notifications_sweep",
        "schedule": OUTFLOW_SWEEP_INTERVAL_SECONDS,
    },
    "purge-expired": {
        "task": "delivery.tasks.expired_purge",
        "schedule": 3600.0,
    },
}
