"""Putting a service's refusal onto the form the person filled in, so the page marks the
fields to fix and keeps everything typed."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from studyhall.core.errors import DomainError

ANSWER_MISSING = "Answer this prompt."
FIX_ANSWER = "Fix this answer."


def put_refusal_on_form(
    form: forms.Form,
    exc: DomainError,
    *,
    by_code: Mapping[str, tuple[str, str]],
    by_name: Mapping[str, tuple[str, str]] | None = None,
) -> list[str]:
    """Mark the fields `exc` is about, and return their names (for a script to mark).

    `by_code` maps an error code to (field, hint). Otherwise a `recap_incomplete` refusal marks
    each missing answer, and a text check marks the field it names, by key or by the label the
    person saw (`by_name` overrides the field and hint for a name)."""
    marks: list[tuple[str, str]] = []
    if exc.code in by_code:
        marks = [by_code[exc.code]]
    elif exc.code == "recap_incomplete":
        marks = [(key, ANSWER_MISSING) for key in exc.extra.get("missing", [])]
    elif "field" in exc.extra:
        named = exc.extra["field"]
        if by_name and named in by_name:
            marks = [by_name[named]]
        else:
            marks = [
                (key, FIX_ANSWER)
                for key, field in form.fields.items()
                if named in (key, field.label)
            ]
    marked = []
    for key, hint in marks:
        if key in form.fields:
            form.add_error(key, hint)
            marked.append(key)
    return marked
