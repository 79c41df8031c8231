"""Colour contrast over the stylesheets' own colour pairs (WCAG 2.1 1.4.3 and 1.4.11): every
rule's text colour against the background it sits on needs 4.5:1, and the focus ring and the
borders that outline form controls need 3:1 against their surfaces. The custom properties of
`:root` are resolved; a translucent colour is layered over the surface beneath it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tinycss2
from coloraide import Color

ROOT = Path(__file__).resolve().parents[1]
SHEETS = sorted(
    [ROOT / "static" / "css" / "studyhall.css", *ROOT.glob("studyhall/*/static/**/*.css")]
)
TEXT, NON_TEXT = 4.5, 3.0
# The surfaces text sits on when its rule sets no background of its own: the page, and a card
# or a table on it. Where a parent rule paints something darker, the selector's prefix says.
PLAIN = ("--paper", "--page")
SURFACES: dict[str, tuple[str, ...]] = {
    ".tile": ("#111827",),
    ".support-chat__header": ("--blue",),
    ".support-chat__full": ("--blue",),
    ".support-chat__close": ("--blue",),
    ".support-chat__title": ("--blue",),
    ".support-msg": ("--page", "#dbeafe"),
}
# Rules that paint a background for text whose colour a parent rule sets.
TEXT_ON: dict[str, str] = {".tile__initials": "#e5e7eb"}
# Rules that paint a surface with no text of its own (their children's rules are checked on
# it), and graphics that carry meaning (3:1 against the card they sit on).
SURFACE_ONLY = {".tile", ".tile__video", ".log-dialog::backdrop"}
# Colour keys beside their text label, with the numbers in a table: not needed to understand
# the content (1.4.11), so not measured.
SURFACE_ONLY |= {".spend__swatch--spent", ".spend__swatch--reserved"}
GRAPHICS = {".bar-chart__bar"}
FORM_CONTROL = re.compile(r"\b(input|select|textarea)\b|aria-invalid")
# Disabled controls are exempt from contrast (WCAG 2.1, 1.4.3 "Incidental").
EXEMPT = re.compile(r"\[disabled\]|aria-disabled")


@dataclass(frozen=True)
class Rule:
    sheet: str
    selector: str
    declarations: dict[str, str]


def _rules(nodes: list[object], sheet: str) -> Iterator[Rule]:
    for node in nodes:
        kind = getattr(node, "type", "")
        if kind == "at-rule" and getattr(node, "content", None) is not None:
            yield from _rules(tinycss2.parse_rule_list(node.content, True, True), sheet)  # type: ignore[attr-defined]
        elif kind == "qualified-rule":
            declarations = {
                d.name: tinycss2.serialize(d.value).strip()
                for d in tinycss2.parse_blocks_contents(node.content, True, True)  # type: ignore[attr-defined]
                if getattr(d, "type", "") == "declaration"
            }
            selector = tinycss2.serialize(node.prelude).strip()  # type: ignore[attr-defined]
            for one in selector.split(","):
                yield Rule(sheet, " ".join(one.split()), declarations)


def rules() -> list[Rule]:
    found: list[Rule] = []
    for sheet in SHEETS:
        parsed = tinycss2.parse_stylesheet(sheet.read_text(), True, True)
        found.extend(_rules(parsed, str(sheet.relative_to(ROOT))))
    return found


def custom_properties(all_rules: list[Rule]) -> dict[str, str]:
    return {
        name: value
        for rule in all_rules
        if rule.selector == ":root"
        for name, value in rule.declarations.items()
        if name.startswith("--")
    }


def _resolve(value: str, props: dict[str, str]) -> str:
    for _ in range(5):
        value = re.sub(r"var\((--[\w-]+)\)", lambda m: props.get(m.group(1), m.group(0)), value)
    return value


def colour(value: str, props: dict[str, str]) -> Color | None:
    """The colour a declaration's value names (a shorthand's colour part), or None."""
    value = _resolve(value, props).strip()
    if value.startswith("--"):
        value = props.get(value, value)
    candidates = [value, *re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)|\b[a-z]+\b", value)]
    for candidate in candidates:
        if candidate in {"inherit", "currentcolor", "none", "solid", "auto", "initial"}:
            continue
        try:
            return Color(candidate)
        except ValueError:
            continue
    return None


def _surfaces(selector: str, props: dict[str, str]) -> list[Color]:
    names = next((s for prefix, s in SURFACES.items() if prefix in selector), PLAIN)
    found = [colour(name, props) for name in names]
    return [c for c in found if c is not None]


def _on(top: Color, below: Color) -> Color:
    return Color.layer([top, below]) if top.alpha() < 1 else top


@dataclass(frozen=True)
class Pair:
    sheet: str
    selector: str
    what: str
    foreground: str
    background: str
    ratio: float
    needed: float

    @property
    def passes(self) -> bool:
        return self.ratio >= self.needed


def _pair(rule: Rule, what: str, fg: Color, bg: Color, needed: float) -> Pair:
    fg = _on(fg, bg)
    return Pair(
        rule.sheet,
        rule.selector,
        what,
        fg.to_string(hex=True),
        bg.to_string(hex=True),
        round(fg.contrast(bg, method="wcag21"), 2),
        needed,
    )


def colour_pairs() -> list[Pair]:
    """Every colour pair the stylesheets set, with its contrast and the ratio it needs."""
    all_rules = rules()
    props = custom_properties(all_rules)
    base_text = colour("--ink", props)
    assert base_text is not None
    own_text = {r.selector: r.declarations["color"] for r in all_rules if "color" in r.declarations}
    pairs: list[Pair] = []
    for rule in all_rules:
        if rule.selector == ":root" or EXEMPT.search(rule.selector):
            continue
        d = rule.declarations
        text = colour(d["color"], props) if "color" in d else None
        background_value = d.get("background-color", d.get("background"))
        background = colour(background_value, props) if background_value else None
        surfaces = _surfaces(rule.selector, props)
        beneath = [_on(background, s) for s in surfaces] if background else surfaces
        if background is not None and background.alpha() == 0:
            beneath = surfaces
        if rule.selector in GRAPHICS and background is not None:
            pairs.extend(_pair(rule, "graphic", background, s, NON_TEXT) for s in surfaces)
            continue
        if rule.selector in SURFACE_ONLY:
            continue
        if text is None and background is not None and background.alpha() > 0:
            plain = re.sub(r":(hover|focus-visible|focus|active)\b", "", rule.selector)
            inherited = TEXT_ON.get(rule.selector) or own_text.get(plain)
            text = colour(inherited, props) if inherited else base_text
        if text is not None:
            pairs.extend(_pair(rule, "text", text, bg, TEXT) for bg in beneath)
        for name in ("outline", "outline-color"):
            ring = colour(d[name], props) if name in d else None
            if ring is not None:
                pairs.extend(_pair(rule, "focus ring", ring, s, NON_TEXT) for s in surfaces)
        if FORM_CONTROL.search(rule.selector):
            for name in ("border", "border-color"):
                edge = colour(d[name], props) if name in d else None
                if edge is not None:
                    pairs.extend(
                        _pair(rule, "control border", edge, bg, NON_TEXT) for bg in beneath
                    )
    return pairs


def test_every_colour_pair_meets_wcag_aa() -> None:
    pairs = colour_pairs()
    failing = [
        f"{p.sheet} {p.selector}: {p.what} {p.foreground} on {p.background} is {p.ratio}:1, "
        f"needs {p.needed}:1"
        for p in pairs
        if not p.passes
    ]
    assert not failing, "\n".join(failing)
    assert len(pairs) >= 80, len(pairs)
    assert {p.what for p in pairs} == {"text", "focus ring", "control border", "graphic"}


def test_the_check_catches_a_pale_pair() -> None:
    faint = Rule("x.css", ".faint", {"color": "#9aa5b1"})
    props = {"--paper": "#ffffff"}
    fg, bg = colour(faint.declarations["color"], props), colour("--paper", props)
    assert fg is not None and bg is not None
    pair = _pair(faint, "text", fg, bg, TEXT)
    assert (pair.ratio, pair.passes) == (2.5, False)


def test_motion_stops_for_those_who_ask_for_less() -> None:
    """WCAG 2.1 2.3.3 (AAA, kept anyway) and the calm of 2.2.2: one rule in the main sheet
    turns off every animation, transition and smooth scroll under prefers-reduced-motion."""
    sheet = ROOT / "static" / "css" / "studyhall.css"
    parsed = tinycss2.parse_stylesheet(sheet.read_text(), True, True)
    reduced = [
        node
        for node in parsed
        if getattr(node, "type", "") == "at-rule"
        and "prefers-reduced-motion:reduce" in tinycss2.serialize(node.prelude).replace(" ", "")
    ]
    assert len(reduced) == 1
    inside = list(_rules(tinycss2.parse_rule_list(reduced[0].content, True, True), "x"))
    assert {r.selector for r in inside} == {"*", "*::before", "*::after"}
    assert {
        "animation-duration",
        "animation-iteration-count",
        "transition-duration",
        "scroll-behavior",
    } <= set(inside[0].declarations)
