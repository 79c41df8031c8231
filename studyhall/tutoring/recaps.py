"""Recaps worth reading: beyond the length rule, a recap must not nearly repeat one of the
tutor's own recaps of the last 90 days, and must not be filler (a run of one character, or
the same text under every prompt).

Similarity is the Jaccard index of the two recaps' word shingles (each word and each pair of
consecutive words, after lower-casing and dropping punctuation): a 30-word copy with a word
changed stays above 0.9, while another recap on the same topic, written afresh, shares few.
The threshold and whether a finding refuses the recap or only flags it for the admin are
organization policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from studyhall.core.errors import RuleViolation
from studyhall.tutoring.models import Completion
from studyhall.tutoring.rules import RECAP_PROMPTS, Recap

LOOK_BACK = timedelta(days=90)
# Ten of one character in a row ("aaaaaaaaaa", "..........") is never a recap.
FILLER_RUN = re.compile(r"(\S)\1{9,}")
# A word, with its apostrophe ("year's") kept inside it.
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


class RecapCheck:
    REFUSE = "refuse"
    FLAG = "flag"
    OFF = "off"


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    field: str


def shingles(text: str) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {(w,) for w in words} | set(pairwise(words))


def similarity(a: str, b: str) -> float:
    left, right = shingles(a), shingles(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _whole(recap: Recap | Completion) -> str:
    return " ".join([recap.topics_covered, recap.tutee_progress, recap.next_steps])


def find_problem(recap: Recap, *, tutor_id: int, now: datetime, threshold: float) -> Finding | None:
    """The first reason the recap is not worth reading, or None."""
    answers = recap.answers()
    for key, value in answers.items():
        if FILLER_RUN.search(value):
            return Finding(
                "recap_filler",
                f"“{RECAP_PROMPTS[key]}” has a run of one character; write what happened.",
                key,
            )
    seen: set[str] = set()
    for key, value in answers.items():
        words = " ".join(WORD.findall(value.lower()))
        if words and words in seen:
            # The answer that repeats an earlier one is the one to rewrite.
            return Finding(
                "recap_repeated_prompt",
                "Each prompt asks something different; the same text under two of them is not "
                "a recap.",
                key,
            )
        seen.add(words)
    text = _whole(recap)
    earlier = Completion.objects.filter(
        session__tutor_id=tutor_id, created_at__gte=now - LOOK_BACK
    ).only("topics_covered", "tutee_progress", "next_steps", "created_at")
    for completion in earlier.order_by("-created_at"):
        score = similarity(text, _whole(completion))
        if score >= threshold:
            return Finding(
                "recap_near_duplicate",
                f"This recap is {round(score * 100)}% the same as the one you wrote on "
                f"{completion.created_at:%b} {completion.created_at.day}; write what happened in "
                "this session.",
                "topics_covered",
            )
    return None


def check_recap_quality(
    recap: Recap, *, tutor_id: int, now: datetime, mode: str, threshold_percent: int
) -> str:
    """Refuse the recap, or return the flag to keep with the completion ("" when fine)."""
    if mode == RecapCheck.OFF:
        return ""
    finding = find_problem(recap, tutor_id=tutor_id, now=now, threshold=threshold_percent / 100)
    if finding is None:
        return ""
    if mode == RecapCheck.REFUSE:
        raise RuleViolation(finding.message, code=finding.code, field=finding.field)
    return finding.message[:200]
