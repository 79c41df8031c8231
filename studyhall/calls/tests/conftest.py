from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import Cast
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, ParticipantState, Session


@pytest.fixture
def online(cast: Cast) -> Session:
    """An online session starting now, Maya accepted and Sam still invited."""
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
        mode=Mode.ONLINE,
        start=timezone.now(),
        minutes=60,
    )
