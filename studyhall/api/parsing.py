"""Reading request bodies: JSON only, and small.

Every body this API accepts is a few kilobytes at most (a recap is three answers of at most
4,000 characters), so anything much larger is refused before it is parsed.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from studyhall.api.errors import BodyNotAnObject, MalformedJson, PayloadTooLarge

MAX_BODY_BYTES = 64 * 1024


class JsonBodyParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The request body is {len(body):,} bytes; this API accepts at most "
                f"{MAX_BODY_BYTES // 1024} KiB."
            )
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise MalformedJson(
                f"The request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}."
            ) from exc
        except UnicodeDecodeError as exc:
            raise MalformedJson("The request body is not valid UTF-8 JSON.") from exc
        except RecursionError as exc:
            raise MalformedJson("The request body nests too deeply.") from exc
        if not isinstance(data, dict):
            raise BodyNotAnObject(
                f"body: must be a JSON object, not {_json_type(data)}.", field="body"
            )
        return data


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
