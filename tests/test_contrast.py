"""Colour contrast over the stylesheets' own colour pairs (WCAG 2.1 1.4.3 and 1.4.11): every
rule's text colour against the background it sits on needs 4.5:1, and the focus ring and the
borders that outline form controls need 3:1 against their surfaces. The custom properties of
`:root` are resolved; a translucent colour is layered over the surface beneath it.

Charts are graphical objects (1.4.11, 3:1): every colour a template's SVG paints data with
(`fill` and `stroke`), every `fill`/`stroke` a stylesheet sets, and the colour keys beside the
charts, against the page and the card, and against the track a bar is drawn on."""

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
# Graphics that carry meaning: bars, and the colour keys that say which colour is which.
GRAPHICS = {".bar-chart__bar", ".spend__swatch--spent", ".spend__swatch--reserved"}
TEMPLATES = sorted(
    [*ROOT.glob("templates/**/*.html"), *ROOT.glob("studyhall/*/templates/**/*.html")]
)
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
SHAPE = re.compile(r"<(rect|circle|ellipse|line|polyline|polygon|path)\b([^>]*)>")
PAINT = re.compile(r'\b(fill|stroke)="([^"]*)"')
# Paints that are not a colour of their own: an icon in the text's colour is text.
NOT_A_COLOUR = {"none", "currentcolor", "transparent", "inherit"}
# A shape whose class ends so is the surface a bar is drawn on, not data.
TRACK = re.compile(r'class="[^"]*__track\b')
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
        for name in ("fill", "stroke"):
            paint = d.get(name, "").strip().lower()
            drawn = colour(paint, props) if paint and paint not in NOT_A_COLOUR else None
            if drawn is not None:
                pairs.extend(_pair(rule, "graphic", drawn, s, NON_TEXT) for s in surfaces)
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


def chart_pairs() -> list[Pair]:
    """Every data colour the templates' SVG charts paint, against the page and the card and
    against the chart's own track."""
    props = custom_properties(rules())
    plain = [c for c in (colour(name, props) for name in PLAIN) if c is not None]
    pairs: list[Pair] = []
    for template in TEMPLATES:
        name = str(template.relative_to(ROOT))
        for svg in SVG.findall(template.read_text()):
            shapes = SHAPE.findall(svg)
            tracks = [
                Color(paint)
                for _, attrs in shapes
                if TRACK.search(attrs)
                for kind, paint in PAINT.findall(attrs)
                if kind == "fill"
            ]
            for tag, attrs in shapes:
                if TRACK.search(attrs):
                    continue
                for kind, paint in PAINT.findall(attrs):
                    if paint.strip().lower() in NOT_A_COLOUR:
                        continue
                    # A colour worked out at render time cannot be measured here.
                    assert "{" not in paint, f"{name}: a chart colour must be fixed: {paint}"
                    rule = Rule(name, f"svg {tag}", {})
                    drawn = Color(paint)
                    pairs.extend(
                        _pair(rule, f"chart {kind}", drawn, below, NON_TEXT)
                        for below in [*plain, *tracks]
                    )
    return pairs


def test_every_chart_colour_stands_out_at_3_to_1() -> None:
    pairs = chart_pairs()
    failing = [
        f"{p.sheet}: {p.what} {p.foreground} on {p.background} is {p.ratio}:1, needs 3:1"
        for p in pairs
        if not p.passes
    ]
    assert not failing, "\n".join(failing)
    charted = {p.sheet for p in pairs}
    assert {
        "studyhall/console/templates/console/_program_spend.html",
        "studyhall/feeds/templates/feeds/reports.html",
    } <= charted
    # The spend bars are measured against their track as well as the page and the card.
    assert {p.background for p in pairs if "_program_spend" in p.sheet} == {
        "#ffffff",
        "#f5f7fa",
        "#e6e9ef",
    }


def test_the_spend_key_shows_the_chart_colours() -> None:
    """Each colour key beside the spend bars is the colour of the bar it names."""
    all_rules = rules()
    props = custom_properties(all_rules)
    keys = {
        r.selector: colour(r.declarations["background"], props)
        for r in all_rules
        if r.selector.startswith(".spend__swatch--")
    }
    chart = (ROOT / "studyhall/console/templates/console/_program_spend.html").read_text()
    fills = [Color(paint) for kind, paint in PAINT.findall(chart) if kind == "fill"]
    assert len(fills) == 3  # the track, spent, reserved
    spent, reserved = keys[".spend__swatch--spent"], keys[".spend__swatch--reserved"]
    assert spent is not None and reserved is not None
    assert (spent.to_string(hex=True), reserved.to_string(hex=True)) == (
        fills[1].to_string(hex=True),
        fills[2].to_string(hex=True),
    )
    # Side by side in one bar, spent and reserved differ at 3:1 too.
    assert spent.contrast(reserved, method="wcag21") >= NON_TEXT


def test_the_chart_check_catches_the_old_pale_key() -> None:
    rule = Rule("x.html", "svg rect", {})
    pair = _pair(rule, "chart fill", Color("#9cbde0"), Color("#ffffff"), NON_TEXT)
    assert (pair.ratio, pair.passes) == (1.95, False)


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
