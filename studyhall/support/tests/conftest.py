from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.testing import factories as f
from studyhall.tutoring.models import Session


@pytest.fixture
def agent2(cast: Cast) -> User:
    """A second support agent (corrections need two)."""
    return f.make_user(email="agent2@example.test", name="Sid Support", is_support_agent=True)


@pytest.fixture
def late(cast: Cast) -> Session:
    """In person, 60 minutes, ended 80 hours ago, Maya accepted: logging closed 8 hours ago."""
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=81),
        minutes=60,
    )


@pytest.fixture
def ready(cast: Cast) -> Session:
    """Began an hour ago, Maya accepted: the tutor can still complete it."""
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
