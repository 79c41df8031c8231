"""Studyhall's JSON API, version 1: /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at
/api/v1/docs). Errors are RFC 9457 problem+json; see `studyhall.api.errors`."""

from studyhall.api import errors
from studyhall.api.auth import API_AUTH
from studyhall.api.openapi import StudyhallAPI
from studyhall.api.parsing import JsonBodyParser
from studyhall.api.routers import (
    admin,
    admin_exports,
    admin_no_shows,
    admin_reports,
    admin_webhooks,
    auth,
    confirmations,
    fallback,
    me,
    notifications,
    payouts,
    sessions,
)

api = StudyhallAPI(
    title="Studyhall API",
    version="1",
    description=(
        "Peer-tutoring sessions: book, answer and complete them; see your earnings. "
        "Authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/token, or "
        "with a signed-in browser session (unsafe methods then need the `X-CSRFToken` header). "
        "Errors are RFC 9457 problem+json with a stable `code`."
    ),
    urls_namespace="api-v1",
    auth=API_AUTH,
    parser=JsonBodyParser(),
)
errors.register(api)

api.add_router("/auth", auth.router)
api.add_router("/sessions", sessions.router)
api.add_router("/sessions", confirmations.router)
api.add_router("/me", me.router)
api.add_router("/payouts", payouts.router)
api.add_router("/notifications", notifications.router)
api.add_router("/admin/orgs", admin_exports.router)
api.add_router("/admin/orgs", admin_webhooks.router)
api.add_router("/admin/orgs", admin_reports.router)
api.add_router("/admin/orgs", admin_no_shows.router)
api.add_router("/admin", admin.router)
# Last, so that it only catches what no endpoint above matched.
api.add_router("", fallback.router)
