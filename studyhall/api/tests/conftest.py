"""An API client per persona, signed in with a real bearer token."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from studyhall.accounts.models import User
from studyhall.accounts.tokens import issue_token
from studyhall.api.tests.support import Api
from studyhall.testing import factories as f


@pytest.fixture
def api_as(db: None) -> Callable[[User | None], Api]:
    """`api_as(cast.tutor)` → an Api with a fresh token; `api_as(None)` sends no credentials."""

    def make(user: User | None) -> Api:
        if user is None:
            return Api(token=None)
        return Api(token=issue_token(request=None, email=user.email, password=f.PASSWORD))

    return make
