from django.http import HttpRequest

from studyhall.ledger.selectors import balances_of


def header_balance(request: HttpRequest) -> dict[str, object]:
    """The signed-in tutor's balance, shown in every page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header_balances": balances_of(user)}
