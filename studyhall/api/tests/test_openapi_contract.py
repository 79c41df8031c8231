"""The API keeps the promises of its OpenAPI document, whatever a client sends.

Schemathesis generates requests for every operation from /api/v1/openapi.json (valid ones
and deliberately broken ones) and checks each answer: never a server error, and every status,
media type and body exactly as documented. Requests a product rule refuses (a session that
hasn't started, a student outside the course) are schema-valid yet answered 4xx with a stable
code by design, so the check that expects every schema-valid request to succeed is left out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from studyhall.accounts.tokens import issue_token
from studyhall.api.v1 import api
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from schemathesis import Case

    from conftest import Cast

# Bounded for the suite: generated requests for every operation, without the exhaustive
# boundary-value phase (run `schemathesis run` by hand for that; see the README).
CONFIG = SchemathesisConfig.from_str("[phases.coverage]\nenabled = false\n")
schema = schemathesis.openapi.from_dict(
    api.get_openapi_schema(path_prefix="/api/v1/"), config=CONFIG
)
schema.app = get_wsgi_application()

ADMIN_PREFIXES = ("/api/v1/admin/", "/api/v1/payouts/")


@pytest.fixture
def tokens(cast: Cast, settings: object) -> dict[str, str]:
    # Known ids for the generated requests to find: sessions past and future, one completed.
    now = timezone.now()
    f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=now)
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student2], start=now - timedelta(hours=2)
    )
    return {
        "admin": issue_token(request=None, email=cast.admin.email, password=f.PASSWORD),
        "tutor": issue_token(request=None, email=cast.tutor.email, password=f.PASSWORD),
    }


@pytest.fixture(autouse=True)
def _stripe_webhooks_configured(settings: object) -> None:
    # Without a signing secret the webhook answers 503 "not set up"; with one, a forged
    # delivery is what a fuzzer can send, and it must get a 400.
    settings.STRIPE_WEBHOOK_SECRET = "whsec_contract_test"  # type: ignore[attr-defined]


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Case, tokens: dict[str, str]) -> None:
    who = "admin" if case.path.startswith(ADMIN_PREFIXES) else "tutor"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens[who]}"},
        excluded_checks=[positive_data_acceptance],
    )
