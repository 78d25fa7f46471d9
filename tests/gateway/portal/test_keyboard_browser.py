"""The whole application with the keyboard alone (WCAG 2.1.1, 2.4.3, 2.4.7): sign in, visit
every page of the menu and the pages they lead to, and sign out, pressing only Tab, Shift+Tab,
Enter and typed characters. On every page each element reached has a visible focus indicator,
is scrolled into view, comes in reading order, and every focusable element is reached."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

# What the keyboard can reach: visible, enabled, not taken out of the tab order.
# What the keyboard can reach: visible, enabled, not taken out of the tab order; of a group
# of radio buttons, Tab stops at the checked one (or the first): arrows choose within it.
FOCUSABLE = """() => {
  const tabStop = (el) => {
    if (el.type !== 'radio' || !el.name) return true;
    const group = [...(el.form || document).querySelectorAll('input[type=radio]')]
      .filter(r => r.name === el.name);
    const checked = group.find(r => r.checked);
    return el === (checked || group[0]);
  };
  const all = [...document.querySelectorAll('*')];
  return [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, video[controls], summary,'
      + ' [tabindex]')]
    .filter(el => el.tabIndex >= 0 && !el.disabled && !el.closest('[hidden], [inert]')
      && el.checkVisibility({visibilityProperty: true}) && tabStop(el))
    .map(el => [all.indexOf(el), el.outerHTML.slice(0, 120)]);
}"""

FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName, id: el.id, href: el.getAttribute('href') || '',
    text: (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40),
    index: [...document.querySelectorAll('*')].indexOf(el),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight
      && box.right > 0 && box.left < innerWidth,
  };
}"""

# In view, and no longer moving (KERN scrolls smoothly): the same place in two frames.
IN_VIEW = """() => {
  const el = document.activeElement;
  if (el === document.body) return true;
  const b = el.getBoundingClientRect();
  const at = `${b.top},${b.left},${scrollX},${scrollY}`;
  const still = window.__focusAt === at;
  window.__focusAt = at;
  return still && b.bottom > 0 && b.top < innerHeight && b.right > 0 && b.left < innerWidth;
}"""


@pytest.fixture
def context(browser: Browser, portal_server: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=portal_server, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.add_cookies([{"name": "ozg_lang", "value": "en", "url": portal_server}])
    yield context
    context.close()


def focus_of(page: Page) -> dict[str, object]:
    page.wait_for_function(IN_VIEW, timeout=3000)  # smooth scrolling may still run
    return dict(page.evaluate(FOCUS))


def to_top(page: Page) -> None:
    """Where a user arrives on a page: the next Tab goes to its first element (a test-only
    reset of the focus navigation starting point, as a reload would do)."""
    page.evaluate(
        "document.body.tabIndex = -1; document.body.focus({preventScroll: true});"
        " document.body.removeAttribute('tabindex'); window.scrollTo(0, 0)"
    )


def walk(page: Page) -> list[dict[str, object]]:
    """Tab from the top of the page to its end; every stop, checked. A native control with
    several stops of its own (a date input's day, month, year and picker) counts once."""
    to_top(page)
    focusable = {int(i): html for i, html in page.evaluate(FOCUSABLE)}
    expected = sorted(focusable)
    seen: list[dict[str, object]] = []
    for _ in range(4 * len(expected)):
        if len(seen) == len(expected):
            break
        page.keyboard.press("Tab")
        focus = focus_of(page)
        if focus["tag"] == "BODY":  # past the end
            reached = {int(str(s["index"])) for s in seen}
            missed = [focusable[i] for i in expected if i not in reached]
            raise AssertionError(f"Tab never reaches, on {page.url}: {missed}")
        if seen and focus["index"] == seen[-1]["index"]:
            continue  # inside the same control
        assert focus["outline"], f"no visible focus indicator on {focus} ({page.url})"
        assert focus["visible"], f"focused element not scrolled into view: {focus} ({page.url})"
        seen.append(focus)
    positions = [int(str(s["index"])) for s in seen]
    assert positions == sorted(positions), f"focus order is not the reading order on {page.url}"
    assert positions == expected, f"not every focusable element was reached on {page.url}"
    return seen


def tab_to(page: Page, name: str | re.Pattern[str], limit: int = 80) -> None:
    """Press Tab (from the top) until the element with this text, id or link target has the
    focus."""
    to_top(page)
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = focus_of(page)
        label = str(focus["text"])
        names = (label, focus["id"], focus["href"])
        hit = name.search(label) if isinstance(name, re.Pattern) else name in names
        if hit:
            return
    raise AssertionError(f"Tab never reached {name!r} on {page.url}")


def follow(page: Page, name: str | re.Pattern[str], url: str) -> None:
    tab_to(page, name)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(url))
    page.wait_for_load_state("networkidle")


def test_the_whole_application_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/")
    walk(page)
    # the skip link moves the focus to the main content
    to_top(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    for name, url in (("Easy-to-read", r"/easy-read$"), ("Accessibility", r"/accessibility$")):
        follow(page, name, url)
        walk(page)

    # sign in: to the form, the two fields, Enter submits
    follow(page, "login", r"/openid-connect/auth\?")
    walk(page)
    to_top(page)
    while page.evaluate("document.activeElement.name") != "username":
        page.keyboard.press("Tab")
    page.keyboard.type("demo-applicant")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-applicant")
    page.keyboard.press("Enter")
    expect(page.locator("#logout")).to_be_visible()

    for name, url in (
        ("Apply", r"/apply$"),
        ("My applications", r"/cases$"),
        ("My documents", r"/documents$"),
        ("Mailbox", r"/messages$"),
        ("Who accessed my data", r"/access-log$"),
        ("My account", r"/account$"),
    ):
        follow(page, name, url)
        walk(page)

    # the pages the account page leads to, and a permit route's first step
    for start, name, url in (
        ("/account", "my-data", r"/account/data$"),
        ("/apply", "/apply/employment", r"/apply/employment$"),
    ):
        page.goto(start)
        follow(page, name, url)
        walk(page)

    # and out again
    tab_to(page, "logout")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
