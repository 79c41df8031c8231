"""Any other path under /api/v1/: a problem+json 404 instead of Django's HTML page."""

from django.http import HttpRequest
from ninja import Router

from studyhall.core.errors import NotFound

router = Router()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_operation(METHODS, "/{path:rest}", auth=None, include_in_schema=False)
def unknown_path(request: HttpRequest, rest: str) -> None:
    raise NotFound(f"There is no API endpoint at /api/v1/{rest}; see /api/v1/docs.")
