from django.http import HttpRequest

from studyhall.core.money import Money
from studyhall.ledger.selectors import balances_of
from studyhall.orgs.models import Membership, Role


def header(request: HttpRequest) -> dict[str, object]:
    """What every page header needs: which links the signed-in person gets, and a tutor's
    balance (zero in each of their organizations' currencies before the first earning)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(
        Membership.objects.filter(user=user).values_list("role", "organization__currency")
    )
    tutoring_currencies = sorted({cur for role, cur in memberships if role == Role.TUTOR})
    balances: list[Money] = []
    if tutoring_currencies:
        balances = balances_of(user) or [Money(0, cur) for cur in tutoring_currencies]
    return {
        "header_balances": balances,
        "nav_is_tutor": bool(tutoring_currencies),
        "nav_is_org_admin": any(role == Role.ADMIN for role, _ in memberships),
    }
