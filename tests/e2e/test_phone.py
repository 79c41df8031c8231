"""On a 390 px phone: the Transaction history shows every row's amount without sideways
scrolling, and the header folds into a Menu button that opens and closes from the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import NewPage

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))


@pytest.fixture
def phone(new_page: NewPage) -> Page:
    return new_page(viewport=PHONE, device_scale_factor=3, is_mobile=True)


def wider_than_the_viewport(page: Page) -> list[str]:
    """Every element whose box reaches past the right edge of the 390 px viewport (the skip
    link waits off the left edge until it is focused, on purpose)."""
    result: list[str] = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
              .filter(el => {
                const box = el.getBoundingClientRect();
                return box.width > 0 && box.right > width + 0.5;
              })
              .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
        }"""
    )
    return result


def test_transaction_history_fits_a_phone(demo_server: str, phone: Page) -> None:
    sign_in(phone, demo_server, "tutor@demo.test")
    phone.goto(f"{demo_server}/earnings/transactions/")

    rows = phone.locator("table.history tbody tr")
    count = rows.count()
    assert count >= 2
    for index in range(count):
        amount = rows.nth(index).locator("td.amount")
        expect(amount).to_be_in_viewport()
        assert re.fullmatch(r"−?\$\d+\.\d\d", amount.inner_text().strip())
        box = amount.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert wider_than_the_viewport(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_header_folds_into_a_menu(demo_server: str, phone: Page) -> None:
    sign_in(phone, demo_server, "tutor@demo.test")
    menu = phone.get_by_role("button", name="Menu")
    nav_link = phone.locator(".site-nav").get_by_role("link", name="Transaction history")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav_link).to_be_hidden()
    header = phone.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= 80

    menu.focus()
    phone.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    phone.keyboard.press("Escape")
    expect(nav_link).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    nav_link.click()
    expect(phone).to_have_url(re.compile(r"/earnings/transactions/$"))
