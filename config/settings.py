"""Studyhall settings: one module, driven by environment variables (see README)."""

import os
from pathlib import Path
from typing import Any

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    cache_config,
    channel_layers_config,
    database_config,
    env_bool,
    env_float,
    env_int,
    env_json,
    env_list,
    http_base_url,
    ice_servers,
    stripe_secret,
    websocket_sources,
)

# Django's generic classes can be subscripted at run time too (admin.ModelAdmin[Course]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "studyhall-development-only-key-not-for-production-use"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "csp",
    "ninja",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.saml",
    "allauth.socialaccount.providers.openid_connect",
    "django_tasks",
    "django_tasks_db",
    "studyhall.core",
    "studyhall.accounts",
    "studyhall.web",
    "studyhall.orgs",
    "studyhall.ledger",
    "studyhall.tutoring",
    "studyhall.calls",
    "studyhall.support",
    "studyhall.notifications",
    "studyhall.calendars",
    "studyhall.console",
    "studyhall.feeds",
    "studyhall.identity",
    "studyhall.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "studyhall.core.middleware.DatabaseConnectionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "studyhall.accounts.middleware.UserTimezoneMiddleware",
    "studyhall.identity.second_factor.SecondFactorMiddleware",
    "studyhall.web.errors.FriendlyErrorsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "csp.context_processors.nonce",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studyhall.ledger.context_processors.header",
                "studyhall.core.context_processors.websocket",
            ],
        },
    }
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": database_config(os.environ.get("DATABASE_URL"), str(VAR_DIR / "studyhall.sqlite3"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CHANNEL_LAYERS = channel_layers_config(os.environ.get("REDIS_URL"))

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's model backend, refusing a password for people whose organization requires its
    # campus sign-in.
    "studyhall.identity.backends.CampusSignInOnlyBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# allauth: email is the username; new accounts come from an org admin or the seed for now.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = True
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "landing"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
# Sign-up also asks the person's name and time zone (preselected from the browser).
ACCOUNT_FORMS = {
    "signup": "studyhall.accounts.forms.SignupForm",
    # The email comes first: members of an organization with single sign-on go to it.
    "login": "studyhall.identity.forms.LoginForm",
}
ACCOUNT_ADAPTER = "studyhall.identity.adapter.AccountAdapter"
# Single sign-on: each organization's identity provider (SAML or OpenID Connect) is an allauth
# SocialApp in the database, set up on the console's Single sign-on page. The adapter links
# a first sign-in to the person the roster holds, or adds them under the sign-up policy.
SOCIALACCOUNT_ADAPTER = "studyhall.identity.sso_adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# Second factors (allauth.mfa): an authenticator app, recovery codes, security keys. Support
# agents and org admins must have one (studyhall.identity.second_factor walks them through
# enrolment); everyone else may add one in account settings.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Studyhall"
# The codes of the periods just before and after count too, for phones whose clock drifts.
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
# Browsers allow security keys on http only for localhost.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Money and people actions ask for the second factor again after this much time since the
# person last proved it (seconds).
STUDYHALL_SECOND_FACTOR_IDLE_SECONDS = env_int(
    "STUDYHALL_SECOND_FACTOR_IDLE_SECONDS", 15 * 60, minimum=60, maximum=24 * 3600
)
# Sign-up is closed: organizations invite people or let their own email domains in. Operators
# may open a public path for people who want to found an organization on this Studyhall.
STUDYHALL_PUBLIC_ORGANIZATION_SIGNUP = env_bool("STUDYHALL_PUBLIC_ORGANIZATION_SIGNUP", False)
# Failed sign-ins (the sign-in page and POST /api/v1/auth/token share them): per address and
# per account. Past either, every attempt gets 429 with Retry-After until the window passes.
ACCOUNT_RATE_LIMITS = {
    "login_failed": os.environ.get("STUDYHALL_LOGIN_FAILED_LIMIT", "10/m/ip,5/5m/key"),
}
# Support's contact form for people who cannot sign in: per address, and per email given.
SUPPORT_CONTACT_RATE_LIMIT = os.environ.get("STUDYHALL_CONTACT_LIMIT", "10/h/ip,3/h/key")

# The rate limits above live in the cache: one shared Redis (CACHE_URL=redis://...) when
# several server processes run, else each process's memory.
CACHES = cache_config(os.environ.get("CACHE_URL"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Studyhall <no-reply@studyhall.local>")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
try:
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
except ValueError as exc:
    raise ImproperlyConfigured("EMAIL_PORT must be a port number, like 587.") from exc
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Where people reach this Studyhall: links in emails (sent from the worker, with no request
# to take the address from) start with it.
STUDYHALL_BASE_URL = http_base_url("STUDYHALL_BASE_URL") or "http://localhost:8000"
# With DEBUG on, Studyhall still shows its own 404/403/500 pages unless this is set.
STUDYHALL_TECHNICAL_ERRORS = env_bool("STUDYHALL_TECHNICAL_ERRORS", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploads (a tutor's transcript when applying to tutor a course); never served publicly.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# In development whitenoise serves straight from the app folders, so no collectstatic step.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# HTTPS only, for a year, once in production (browsers remember it: never on in development).
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Where browsers open their WebSockets (/ws/). Unset (0): the page's own origin, as behind a
# proxy that routes /ws/ to the ASGI server (README, Production). A port: the same host on that
# port, where `make run` serves WebSockets with uvicorn beside gunicorn (docs/adr/0010).
STUDYHALL_WEBSOCKET_PORT = env_int("STUDYHALL_WEBSOCKET_PORT", 0, minimum=0, maximum=65535)

# Scripts only from our own static files, or inline with this response's nonce
# (`<script nonce="{{ CSP_NONCE }}">`). No 'unsafe-eval': htmx runs with allowEval off, so no
# trigger filter, `js:` value or hx-on attribute is ever evaluated (the chat's polling is
# driven from support/chat.js instead).
# Inline style attributes are allowed; inline event handlers (onclick="") are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        # WebSockets to the same host ('self' covers ws:/wss: of the page's own origin), or to
        # the WebSocket server's own port when it has one (below).
        "connect-src": [SELF, *websocket_sources(STUDYHALL_WEBSOCKET_PORT)],
        "font-src": [SELF],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# The hook the completion service asks "who else is in the online call?".
STUDYHALL_CALL_PRESENCE = "studyhall.calls.presence.DatabaseCallPresence"
# STUN/TURN servers handed to browsers for WebRTC, as RTCIceServer objects, e.g.
# [{"urls": "turn:turn.example.edu:3478", "username": "studyhall", "credential": "..."}].
STUDYHALL_ICE_SERVERS = ice_servers(env_json("STUDYHALL_ICE_SERVERS", []))

# Background work: tasks are stored in the database and run by `manage.py db_worker`;
# `manage.py run_scheduler` enqueues the periodic ones below when they fall due.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A task still marked running this long after a worker claimed it is taken to be orphaned (its
# worker died) and is queued again by the scheduler. Longer than any job runs (the nightly
# feeds take minutes); every task is idempotent, so a rare second run is harmless.
STUDYHALL_TASK_LEASE_SECONDS = env_int(
    "STUDYHALL_TASK_LEASE_SECONDS", 15 * 60, minimum=30, maximum=24 * 3600
)
STUDYHALL_PERIODIC_TASKS: dict[str, dict[str, Any]] = {
    # Removes closed support chats, notifications and classroom presence older than each
    # organization keeps them (studyhall.identity.models.RetentionPolicy). Idempotent.
    "privacy.retention": {
        "task": "studyhall.identity.tasks.apply_retention",
        "every_seconds": 60 * 60,
    },
    # Reminders 24 h and 1 h before sessions, and "log your session" to tutors at the end and
    # with 24 h and 4 h of the grace period left. Each is sent once (a unique claim per
    # session, person, kind and moment), however often the job runs.
    "notifications.reminders": {
        "task": "studyhall.tutoring.tasks.send_due_reminders",
        "every_seconds": 120,
    },
    # Builds each finished week's payouts, sends the Stripe ones that are due, retries those
    # whose provider did not answer, and takes back failed transfers. Idempotent.
    "payouts": {"task": "studyhall.ledger.tasks.run_payouts", "every_seconds": 15 * 60},
    # Ends the presence of classroom tabs that stopped heartbeating (closed laptops), so a
    # call whose last people vanished still ends and its session's status settles.
    "classroom.expire_silent_connections": {
        "task": "studyhall.calls.tasks.expire_silent_connections",
        "every_seconds": 60,
    },
    # Each organization's nightly data feed (exports to a folder and SFTP, roster pickup,
    # summary email) once its hour has come; a failed push is retried on each later run.
    "feeds.nightly": {"task": "studyhall.feeds.tasks.run_nightly_feeds", "every_seconds": 15 * 60},
    # Sessions whose students did not answer "Did this session happen as logged?" in time
    # count as confirmed; their held earnings are released. Idempotent.
    "sessions.auto_confirm": {
        "task": "studyhall.tutoring.tasks.auto_confirm_sessions",
        "every_seconds": 5 * 60,
    },
    # Expires proposed new times nobody answered before they arrived, and marks sessions whose
    # start passed with no student accepted (or requests never answered) as Missed. Idempotent.
    "sessions.mark_missed": {
        "task": "studyhall.tutoring.tasks.mark_missed_sessions",
        "every_seconds": 60,
    },
}

# The federal 1099-NEC reporting threshold for payments made in each calendar year, from the
# first year it applies: $600 until 2025, $2,000 for payments from 2026 (P.L. 119-21 § 70433).
# A year uses the last entry at or before it. Organizations may add a state threshold.
STUDYHALL_FEDERAL_1099_THRESHOLDS: list[tuple[int, int]] = [(1900, 60_000), (2026, 200_000)]

# The nightly feeds' part of the server's disk: each organization writes and reads only inside
# its own folder, <root>/<organization slug>/ (its exports when it names no folder). The older
# name STUDYHALL_FEEDS_DIR is still read.
STUDYHALL_FEEDS_ROOT = os.environ.get(
    "STUDYHALL_FEEDS_ROOT", os.environ.get("STUDYHALL_FEEDS_DIR", str(VAR_DIR / "feeds"))
)

# Stripe Connect payouts (organizations whose payout provider is Stripe). Unset: Stripe is off
# and tutors of such organizations see that payouts are not set up yet.
STRIPE_SECRET_KEY = stripe_secret("STRIPE_SECRET_KEY", ("sk_", "rk_"), "sk_live_ or sk_test_")
STRIPE_WEBHOOK_SECRET = stripe_secret("STRIPE_WEBHOOK_SECRET", ("whsec_",), "whsec_")
# Unset: Stripe's own API. Tests point it at a local fake server.
STRIPE_API_BASE = http_base_url("STRIPE_API_BASE")
STRIPE_TIMEOUT_SECONDS = env_float("STRIPE_TIMEOUT_SECONDS", 30.0, minimum=0.05, maximum=300)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0, maximum=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
