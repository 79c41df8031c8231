"""/accounts/ serves allauth's own URLs: the same patterns, names and order as `allauth.urls`,
with SAML's views imported on first use and marked as the real ones are."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from allauth import urls as allauth_urls
from django.urls import URLPattern, URLResolver
from django.utils.module_loading import import_string

from studyhall.identity import allauth_urls as ours

FLAGS = ("csrf_exempt", "login_required")


def _flat(patterns: Iterable[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _flat(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p.name, p.callback


def test_the_same_urls_in_the_same_order_as_allauths() -> None:
    theirs = [(route, name) for route, name, _ in _flat(allauth_urls.urlpatterns)]
    mine = [(route, name) for route, name, _ in _flat(ours.urlpatterns)]
    assert mine == theirs
    assert ("^saml/(?P<organization_slug>[^/]+)/acs/", "saml_acs") in mine


def test_saml_views_are_lazy_and_flagged_like_the_real_ones() -> None:
    lazy = [cb for _, _, cb in _flat(ours.urlpatterns) if hasattr(cb, "lazy_target")]
    assert sorted(cb.lazy_target.rsplit(".", 1)[1] for cb in lazy) == [
        "acs",
        "finish_acs",
        "login",
        "metadata",
        "sls",
    ]
    for cb in lazy:
        real = import_string(cb.lazy_target)
        for flag in FLAGS:
            assert getattr(cb, flag, None) == getattr(real, flag, None), (cb.lazy_target, flag)


def test_every_other_view_is_allauths_own() -> None:
    theirs = {name: cb for _, name, cb in _flat(allauth_urls.urlpatterns) if name}
    for _, name, cb in _flat(ours.urlpatterns):
        if name and not hasattr(cb, "lazy_target"):
            assert cb is theirs[name], name
