"""Django settings for Cotton ERP.

Every value that differs between machines comes from the environment (see `.env.example`).
When DATABASE_URL / REDIS_URL are absent, `scripts/devenv.py` starts the embedded PostgreSQL
and Redis and writes their URLs to `.data/runtime.env`, which is read here as a fallback so
`python manage.py ...` works in a shell after `make run` too.
"""

from __future__ import annotations

import os
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("COTTON_DATA_DIR", BASE_DIR / ".data"))

env = environ.Env()
_runtime_env = DATA_DIR / "runtime.env"
if _runtime_env.exists():
    # Does not override variables already set in the environment.
    environ.Env.read_env(str(_runtime_env))
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"))

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
TESTING = env.bool("COTTON_TESTING", default=False)

INSTALLED_APPS = [
    # Above django.contrib.admin, or its "Events" links on change pages are not rendered.
    "pghistory.admin",
    "apps.core.admin_config.BackOfficeAdminConfig",  # django.contrib.admin, its site apps.core.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # OpClass in index expressions (the trigram search indexes)
    # third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "corsheaders",
    "channels",
    "guardian",
    "axes",
    "django_celery_beat",
    "django_object_actions",
    "import_export",
    "django_structlog",
    "pgtrigger",
    "pghistory",
    # ours, in layer order (ARCHITECTURE section 3)
    "apps.core",
    "apps.events",
    "apps.webhooks",
    "apps.realtime",
    "apps.organizations",
    "apps.accounts",
    "apps.locations",
    "apps.commodities",
    "apps.partners",
    "apps.risk",
    "apps.tradedesk",
    "apps.matching",
    "apps.trades",
    "apps.backoffice",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.body_limit.BodyLimitMiddleware",  # before anything reads a body
    "apps.core.middleware.AdminQueryGuardMiddleware",  # before an admin list reads its filters
    "django_structlog.middlewares.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.idempotency.IdempotencyMiddleware",
    "apps.core.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cotton_erp.urls"
WSGI_APPLICATION = "cotton_erp.wsgi.application"
ASGI_APPLICATION = "cotton_erp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database --------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL")}
# Django's PostgreSQL backend reading timestamps with psycopg's own loader (apps/core/postgresql).
DATABASES["default"]["ENGINE"] = "apps.core.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # each service opens its own transaction
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
# Lock waits surface as 409s instead of hanging a worker (see core.exception_handler).
# JIT off for the web's OLTP connections (issue 15): at 200,000 offers JIT compilation alone took
# 641-698 ms of a 699 ms filtered market page; every query here returns a page, not a report.
# DB_JIT=on brings it back (an analytics connection, say).
DATABASES["default"]["OPTIONS"].setdefault(
    "options",
    f"-c lock_timeout={env.int('DB_LOCK_TIMEOUT_MS', default=5000)} -c jit={env.str('DB_JIT', default='off')}",
)
# A bounded connection pool per process (issue 14): under uvicorn each request runs in a thread of
# its own, so CONN_MAX_AGE kept one connection per finished thread until PostgreSQL refused
# clients. Off by default in Celery (one process per connection already, and a pool must not
# cross the prefork fork) and under COTTON_TESTING (pytest-django swaps databases under it;
# apps/core/tests/test_db_pool.py turns it on in a real uvicorn). See docs/decisions.md.
_argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
_IS_CELERY = _argv0.name == "celery" or _argv0.parent.name == "celery"
DB_POOL = env.bool("DB_POOL", default=not TESTING and not _IS_CELERY)
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        # A request waits this long for a free connection, then answers 503 database_busy.
        "timeout": env.float("DB_POOL_TIMEOUT_SECONDS", default=10.0),
    }
# The market's pages run as prepared statements with a generic plan, at most this many per
# connection (core.sql.execute_prepared, issue 15); 0 runs them as plain statements (needed behind
# a pooler that does not keep a session per client, such as PgBouncer in transaction mode).
SQL_PREPARED_STATEMENTS = env.int("SQL_PREPARED_STATEMENTS", default=32)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: one URL, separate logical databases per concern ----------------------------------
def _redis_db_url(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


REDIS_URL = env.str("REDIS_URL")
_base_db = int((urlsplit(REDIS_URL).path or "/0").lstrip("/") or 0)
# Parallel test workers (pytest-xdist) each get their own Redis databases so rate limits,
# tickets and the broker of one worker never leak into another's assertions.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    _base_db = 2 + 2 * int(_worker[2:]) % 14
REDIS_CACHE_URL = _redis_db_url(REDIS_URL, _base_db)
REDIS_BROKER_URL = _redis_db_url(REDIS_URL, _base_db + 1)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": "cotton",
        "TIMEOUT": 300,
    }
}

# redis-py 8 gives every connection a 5 s socket timeout, the same as channels_redis' blocking
# BZPOPMIN wait (brpop_timeout, 5 s): the read timed out first and every idle websocket's consumer
# crashed at 5 s (issue 14). The layer's reads get a timeout well past the blocking wait.
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = env.float("CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS", default=30.0)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_CACHE_URL,
                    "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS,
                    "socket_connect_timeout": 5.0,
                }
            ],
            "prefix": "cotton:asgi",
        },
    }
}

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_BROKER_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Periodic tasks are declared here, in code, and synced into django-celery-beat's tables by
# `manage.py sync_periodic_tasks` (also run after every migrate). Never edit them in the admin.
PERIODIC_TASKS: dict[str, dict[str, object]] = {
    "events.relay_outbox": {
        "task": "apps.events.tasks.relay_outbox",
        "every_seconds": 2,
        "description": "Sweep the outbox: dispatch due events (the on-commit hint usually got there first).",
    },
    "accounts.prune_auth_artifacts": {
        "task": "apps.accounts.tasks.prune_auth_artifacts",
        "every_seconds": 3600,
        "description": "Delete expired OTP codes and expired JWT outstanding/blacklisted tokens.",
    },
    "webhooks.deliver_due": {
        "task": "apps.webhooks.tasks.deliver_due",
        "every_seconds": 5,
        "description": "Queue due webhook deliveries that no task is queued for (long retries, lost messages).",
    },
    "core.prune_idempotency_keys": {
        "task": "apps.core.tasks.prune_idempotency_keys",
        "every_seconds": 3600,
        "description": "Delete Idempotency-Key records past their 24 hours.",
    },
    "partners.kyc_sweep": {
        "task": "apps.partners.tasks.kyc_sweep",
        "every_seconds": 6 * 3600,
        "description": "KYC: send each expiry reminder once (90/60/30/7 days), expire lapsed KYC and documents.",
    },
    "tradedesk.expire_requirements": {
        "task": "apps.tradedesk.tasks.expire_requirements",
        "every_seconds": 60,
        "description": "Requirements past valid_until: ACTIVE/PARTIALLY_FULFILLED -> EXPIRED (idempotent, one event each).",
    },
    "matching.sweep": {
        "task": "apps.matching.tasks.sweep",
        "every_seconds": 300,
        "description": "Matching: re-score postings and partners changed since the last sweep, withdraw pairs that no longer pass.",
    },
    "tradedesk.expire_availabilities": {
        "task": "apps.tradedesk.tasks.expire_availabilities",
        "every_seconds": 60,
        "description": "Availabilities past their expiry: ACTIVE/RESERVED -> EXPIRED, reservations released (idempotent).",
    },
    "tradedesk.expire_reservations": {
        "task": "apps.tradedesk.tasks.expire_reservations",
        "every_seconds": 60,
        "description": "Reservations past their expiry -> EXPIRED, their quantity available again (SKIP LOCKED).",
    },
    "risk.exposure_sweep": {
        "task": "apps.risk.tasks.exposure_sweep",
        "every_seconds": 300,
        "description": "Exposure monitoring: re-weigh credit rows after weight changes, emit one alert per level crossing.",
    },
    "trades.expire_negotiations": {
        "task": "apps.trades.tasks.expire_negotiations",
        "every_seconds": 60,
        "description": "Negotiations idle 48 h after their last offer -> EXPIRED, reservation released (idempotent).",
    },
}

# --- Event outbox (ARCHITECTURE section 8) ----------------------------------------------
# Idempotency-Key records (ARCHITECTURE section 11): kept 24 h; a claim left by a crashed
# server is taken over after the lock timeout.
IDEMPOTENCY_TTL_SECONDS = env.int("IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=120)

OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
OUTBOX_CLAIM_LEASE_SECONDS = env.int("OUTBOX_CLAIM_LEASE_SECONDS", default=60)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=2.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=3600.0)
OUTBOX_RELAY_MAX_SECONDS = env.float("OUTBOX_RELAY_MAX_SECONDS", default=5.0)
OUTBOX_HINT_DEBOUNCE_MS = env.int("OUTBOX_HINT_DEBOUNCE_MS", default=20)

# --- Trade desk ------------------------------------------------------------------------------
# How long a reservation of availability quantity holds unless its caller gives a ttl.
TRADEDESK_RESERVATION_TTL_MINUTES = env.int("TRADEDESK_RESERVATION_TTL_MINUTES", default=30)
# An owned reservation (a negotiation's) is released by its owner; the trade desk's job takes it
# only this long after the owner's expiry, as a safety net.
TRADEDESK_OWNED_RESERVATION_GRACE_MINUTES = env.int("TRADEDESK_OWNED_RESERVATION_GRACE_MINUTES", default=15)

# Dates a posting may carry, around today (tradedesk.inputs): anything further is refused (issue 14).
INPUT_DATES_MAX_PAST_DAYS = env.int("INPUT_DATES_MAX_PAST_DAYS", default=366)
INPUT_DATES_MAX_FUTURE_DAYS = env.int("INPUT_DATES_MAX_FUTURE_DAYS", default=2 * 366)

# --- Realtime (ARCHITECTURE section 10) ----------------------------------------------------
REALTIME_TICKET_TTL_SECONDS = env.int("REALTIME_TICKET_TTL_SECONDS", default=30)
REALTIME_HEARTBEAT_SECONDS = env.float("REALTIME_HEARTBEAT_SECONDS", default=25.0)
REALTIME_MAX_TOPICS = env.int("REALTIME_MAX_TOPICS", default=50)

# --- Webhooks -------------------------------------------------------------------------------
# ARCHITECTURE section 9; apps/webhooks.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# Delays before retries 1..9 after the immediate first attempt (5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 14 h, 20 h, 24 h), each with +/- WEBHOOKS_RETRY_JITTER_RATIO; the delivery is DEAD after the last.
WEBHOOKS_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
WEBHOOKS_RETRY_JITTER_RATIO = env.float("WEBHOOKS_RETRY_JITTER_RATIO", default=0.1)
WEBHOOKS_RETRY_AFTER_MAX_SECONDS = env.int("WEBHOOKS_RETRY_AFTER_MAX_SECONDS", default=24 * 3600)
WEBHOOKS_PREVIOUS_SECRET_TTL_SECONDS = env.int("WEBHOOKS_PREVIOUS_SECRET_TTL_SECONDS", default=24 * 3600)
WEBHOOKS_SECRET_BYTES = 32
WEBHOOKS_RESPONSE_EXCERPT_BYTES = 1024
# Receivers on private (RFC 1918, ULA, CGNAT) or loopback addresses are refused unless allowed
# here; link-local (cloud metadata) is always refused. Local development may use loopback.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=DEBUG)
# A claimed attempt is another worker's for this long (must exceed the whole HTTP exchange).
WEBHOOKS_CLAIM_LEASE_SECONDS = env.int("WEBHOOKS_CLAIM_LEASE_SECONDS", default=120)
# Retries further away than this are left to the beat sweeper instead of a Celery ETA (the
# Redis broker redelivers unacknowledged ETA messages after its visibility timeout, 1 h).
WEBHOOKS_TASK_ETA_MAX_SECONDS = env.int("WEBHOOKS_TASK_ETA_MAX_SECONDS", default=900)
# How long the sweeper trusts a queued task to arrive before queueing the delivery again.
WEBHOOKS_ENQUEUE_GRACE_SECONDS = env.int("WEBHOOKS_ENQUEUE_GRACE_SECONDS", default=60)
WEBHOOKS_SWEEP_BATCH_SIZE = env.int("WEBHOOKS_SWEEP_BATCH_SIZE", default=500)

# --- Locations ------------------------------------------------------------------------------
# Geocoding (apps.locations.geocoding): the offline gazetteer unless a Google Maps key is set.
GOOGLE_MAPS_API_KEY = env.str("GOOGLE_MAPS_API_KEY", default="")
GOOGLE_MAPS_BASE_URL = env.str("GOOGLE_MAPS_BASE_URL", default="https://maps.googleapis.com")
GOOGLE_MAPS_TIMEOUT_SECONDS = env.float("GOOGLE_MAPS_TIMEOUT_SECONDS", default=3.0)
GOOGLE_MAPS_RETRY_ATTEMPTS = env.int("GOOGLE_MAPS_RETRY_ATTEMPTS", default=3)
# Consecutive failed calls that open the circuit breaker, and how long it stays open.
GOOGLE_MAPS_BREAKER_FAIL_MAX = env.int("GOOGLE_MAPS_BREAKER_FAIL_MAX", default=5)
GOOGLE_MAPS_BREAKER_RESET_SECONDS = env.int("GOOGLE_MAPS_BREAKER_RESET_SECONDS", default=60)
# Autocomplete is restricted to these countries (ISO 3166-1 alpha-2); empty: worldwide.
GOOGLE_MAPS_COUNTRIES = env.list("GOOGLE_MAPS_COUNTRIES", default=["in"])
GOOGLE_MAPS_LANGUAGE = env.str("GOOGLE_MAPS_LANGUAGE", default="en")

# --- Partners: KYC (SPEC section 6) -----------------------------------------------------------
# The largest KYC document accepted (PDF, JPEG or PNG, recognised by content).
PARTNERS_DOCUMENT_MAX_BYTES = env.int("PARTNERS_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
# KYC stays valid this many days after verification (approval or renewal).
PARTNERS_KYC_VALIDITY_DAYS = env.int("PARTNERS_KYC_VALIDITY_DAYS", default=365)
# Days before expiry at which the owner is reminded (each reminder sent once per expiry date).
PARTNERS_KYC_REMINDER_DAYS = tuple(
    sorted((int(d) for d in env.list("PARTNERS_KYC_REMINDER_DAYS", default=["90", "60", "30", "7"])), reverse=True)
)

# --- Request bodies (apps.core.body_limit; issue 14) ----------------------------------------------
# Every /api/ body is refused (413) over this size before it is read; KYC uploads get their own.
API_BODY_MAX_BYTES = env.int("API_BODY_MAX_BYTES", default=2_621_440)  # 2.5 MB
API_BODY_LIMIT_OVERRIDES = [
    (r"^/api/v1/partners/(applications/)?[^/]+/documents/$", PARTNERS_DOCUMENT_MAX_BYTES + 1024 * 1024),
]

# --- Partners: OCR and GST verification adapters (apps.partners.ocr, apps.partners.gst) ----------
# OCR of uploaded KYC documents: a dotted path of a callable (document_type, bytes) -> dict wins;
# else the HTTP backend when a URL is set; else nothing is extracted (manual verification).
PARTNERS_OCR_BACKEND = env.str("PARTNERS_OCR_BACKEND", default="")
PARTNERS_OCR_HTTP_URL = env.str("PARTNERS_OCR_HTTP_URL", default="")
PARTNERS_OCR_HTTP_TOKEN = env.str("PARTNERS_OCR_HTTP_TOKEN", default="")
PARTNERS_OCR_HTTP_TIMEOUT_SECONDS = env.float("PARTNERS_OCR_HTTP_TIMEOUT_SECONDS", default=10.0)
# GSTIN verification: offline (pattern and check character) unless a registry URL is set; the
# registry's turnover and filing compliance then replace the applicant's own in the risk score.
GST_VERIFY_HTTP_URL = env.str("GST_VERIFY_HTTP_URL", default="")
GST_VERIFY_HTTP_TOKEN = env.str("GST_VERIFY_HTTP_TOKEN", default="")
GST_VERIFY_HTTP_TIMEOUT_SECONDS = env.float("GST_VERIFY_HTTP_TIMEOUT_SECONDS", default=10.0)

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "apps.accounts.validators.MixedCharacterClassesValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ],
)
LOGIN_URL = "/admin/login/"

# django-guardian: no anonymous user row (our user model requires an organization or the
# SUPER_ADMIN type, and anonymous callers never hold object permissions anyway).
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-axes guards the admin login only; the API has its own Redis-backed lockout
# (apps.accounts.lockout) so both paths lock after 5 failures in 15 minutes.
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
# SPEC section 2 locks the account, not the address: an attacker rotating IPs must not reset
# the count, and staff behind one office NAT must not lock each other out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Login rules of SPEC section 2 (defaults that belong in settings, not code).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
OTP_LENGTH = 6
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=5 * 60)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_SEND_LIMIT_SHORT = env.int("OTP_SEND_LIMIT_SHORT", default=3)
OTP_SEND_WINDOW_SHORT_SECONDS = env.int("OTP_SEND_WINDOW_SHORT_SECONDS", default=10 * 60)
OTP_SEND_LIMIT_DAY = env.int("OTP_SEND_LIMIT_DAY", default=10)
# SMS pumping (issue 14): OTP requests per client IP and SMS per organization, each per hour.
OTP_SEND_LIMIT_PER_IP_HOUR = env.int("OTP_SEND_LIMIT_PER_IP_HOUR", default=20)
OTP_SEND_LIMIT_PER_ORGANIZATION_HOUR = env.int("OTP_SEND_LIMIT_PER_ORGANIZATION_HOUR", default=200)
PHONE_DEFAULT_COUNTRY_CODE = env.str("PHONE_DEFAULT_COUNTRY_CODE", default="91")

# SMS adapter: the log + dev inbox backend by default; the HTTP backend when a gateway is set.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default=(
        "apps.accounts.sms.HttpSmsBackend"
        if env.str("SMS_HTTP_URL", default="")
        else "apps.accounts.sms.InboxSmsBackend"
    ),
)
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_SENDER = env.str("SMS_HTTP_SENDER", default="COTTON")
SMS_HTTP_TIMEOUT_SECONDS = env.float("SMS_HTTP_TIMEOUT_SECONDS", default=5.0)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_OBTAIN_SERIALIZER": None,
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.JwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apps.core.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.OrjsonParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CappedCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")  # type: ignore[attr-defined]

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_FORMATTER_CLASS": "apps.core.exception_handler.CottonExceptionFormatter",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cotton ERP API",
    "DESCRIPTION": "Trade desk, partner onboarding and back office for commodity trading houses.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents its error answers with the one error shape (apps/core/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.openapi.add_error_responses",
        "apps.core.openapi.add_summaries_and_examples",
    ],
    # Choice sets shared by several components get one stable name (else the schema warns).
    "ENUM_NAME_OVERRIDES": {
        "PartnerStatusEnum": "apps.partners.models.PartnerStatus",
        "DocumentStatusEnum": "apps.partners.models.DocumentStatus",
        "AmendmentKindEnum": "apps.partners.models.AmendmentKind",
        "AmendmentStatusEnum": "apps.partners.models.AmendmentStatus",
        "RequirementStatusEnum": "apps.tradedesk.models.RequirementStatus",
        "AvailabilityStatusEnum": "apps.tradedesk.models.AvailabilityStatus",
        "ReservationStatusEnum": "apps.tradedesk.models.ReservationStatus",
        "NegotiationStatusEnum": "apps.trades.models.NegotiationStatus",
        "TradeStatusEnum": "apps.trades.models.TradeStatus",
        "TradeAmendmentKindEnum": "apps.trades.models.AmendmentKind",
    },
}

# --- I18N / static ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development the files are served from the finders, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(DATA_DIR / "media"))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Logging: structlog JSON with PII masking -----------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# A quiet console (issue 17): periodic task runs and a request's start are not written at INFO
# (apps.core.logging.QuietConsole, a filter on the loggers themselves, so it holds in Celery's
# processes too, whose root handler Celery replaces). LOG_QUIET_CONSOLE=0 writes them again.
from apps.core.logging import QUIET_LOGGERS  # noqa: E402

_QUIET = ["quiet"] if env.bool("LOG_QUIET_CONSOLE", default=True) else []
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "apps.core.logging.build_json_formatter"},
    },
    "filters": {
        "quiet": {"()": "apps.core.logging.QuietConsole"},
        "mask_url_credentials": {"()": "apps.core.logging.MaskCredentialsInUrls"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django_structlog": {"level": LOG_LEVEL},
        "celery": {"level": LOG_LEVEL},
        **{name: {"filters": _QUIET} for name in QUIET_LOGGERS},
        # uvicorn prints a websocket's path with its query string (the realtime ticket).
        "uvicorn.error": {"filters": ["mask_url_credentials"]},
    },
}
from apps.core.logging import configure_structlog  # noqa: E402

configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# RequestIdMiddleware (first in MIDDLEWARE) has already sanitised X-Request-ID or replaced it;
# without this django-structlog binds its own uuid4 and log lines stop matching the header.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
# Under ASGI, the middleware chain and the (sync) view in one hop to the request's thread
# (issue 15, apps/core/asgi_handler.py). Off: Django's ASGIHandler, the chain in async mode.
ASGI_ONE_THREAD = env.bool("ASGI_ONE_THREAD", default=True)
# Its threads, kept between requests (past this many requests at once, one waits for a thread).
ASGI_REQUEST_THREADS = env.int("ASGI_REQUEST_THREADS", default=20)

# The shared Redis client's pool (apps/core/redis.py): requests past the bound wait this long.
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=50)
REDIS_POOL_TIMEOUT_SECONDS = env.float("REDIS_POOL_TIMEOUT_SECONDS", default=5.0)

# The caller (user row, partner membership) kept per process under a Redis version (issue 15,
# apps/core/caller_cache.py). Off: every request reads them again (the switch of last resort).
CALLER_CACHE_ENABLED = env.bool("CALLER_CACHE_ENABLED", default=True)
# The web processes move the objects of their loaded code out of the collector's reach once they
# are up (apps/core/runtime.py, issue 15). Off: every full collection walks them again.
GC_FREEZE_AFTER_STARTUP = env.bool("GC_FREEZE_AFTER_STARTUP", default=True)

# --- Outbound integrations ---------------------------------------------------------------------
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)

# --- Demo data ------------------------------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="CottonDemo1")
