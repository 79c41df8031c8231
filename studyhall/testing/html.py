"""Reading rendered pages in tests."""

import re

_TIME_TAG = re.compile(r'<time datetime="[^"]*">|</time>')


def untimed(html: str) -> str:
    """The page with its `<time datetime=...>` tags taken out (their text stays), for tests
    that read a sentence; tests of the markup itself read the page as it is."""
    return _TIME_TAG.sub("", html)
