"""The OpenAPI document says what the API really sends and accepts.

ninja documents every response as `application/json`; Studyhall answers every error as
`application/problem+json` (`studyhall.api.errors`), so error responses are documented with
that media type. Any endpoint can answer 503 when the database pool is exhausted, so each
operation documents it. An optional body may be left out, but `null` is not a body this API
reads (`studyhall.api.parsing`), so the `null` alternative ninja adds is dropped.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemOut"}
OPERATIONS = {"get", "put", "post", "patch", "delete"}
INPUT_ERRORS = {400: "Malformed input", 422: "Invalid input"}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_REF}}}


BUSY = problem_response("Busy: every database connection is in use; try again in a moment.")


class StudyhallAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if method in OPERATIONS:
                    document_operation(operation)
        return schema


def document_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    # ninja keys the responses by int; a JSON round trip turns them into strings.
    for status, response in responses.items():
        content = response.get("content")
        if (
            str(status).isdigit()
            and int(status) >= 400
            and content
            and "application/json" in content
        ):
            content[PROBLEM] = content.pop("application/json")
    documented = {int(status) for status in responses if str(status).isdigit()}
    if operation.get("parameters") or operation.get("requestBody"):
        # Anything sent can be malformed (400) or fail validation (422).
        for status, description in INPUT_ERRORS.items():
            if status not in documented:
                responses[status] = problem_response(description)
    if 503 not in documented:
        responses[503] = BUSY
    body = operation.get("requestBody")
    if body is None:
        return
    for media in body.get("content", {}).values():
        branches = media.get("schema", {}).get("anyOf")
        if branches is None:
            continue
        kept = [branch for branch in branches if branch != {"type": "null"}]
        if len(kept) == 1:
            media["schema"] = kept[0]
        else:
            media["schema"]["anyOf"] = kept
