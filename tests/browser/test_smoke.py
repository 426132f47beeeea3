"""Smoke: each demo role signs in at tablet and phone size, in both languages, with the network 'off'."""

from __future__ import annotations

import pytest

ROLES = {
    "auditor": ["/facilities/"],
    "supervisor": ["/", "/facilities/", "/devices/"],
    "planner": ["/", "/wilayah/36.73"],
    "admin": ["/admin/users", "/admin/users/new", "/audit-log"],
}


@pytest.mark.parametrize("size", ["tablet", "phone"])
@pytest.mark.parametrize("role", list(ROLES))
def test_role_signs_in_and_sees_their_pages(demo_server, tab_factory, role, size):
    tab = tab_factory(demo_server.url, size)
    tab.goto("/login")
    tab.shot(f"login-{size}-id")
    tab.login(role)
    assert "/login" not in tab.page.url, "signed in"
    assert tab.page.locator(".demo-banner").is_visible()
    for language in ("id", "en"):
        if language == "en":
            tab.set_language("en")
        for path in ROLES[role]:
            response = tab.goto(path)
            assert response.status == 200, path
            assert tab.page.locator("html").get_attribute("lang") == language
            slug = path.strip("/").replace("/", "-") or "home"
            tab.shot(f"{role}-{slug}-{size}-{language}")
    tab.set_language("id")
    tab.assert_clean()


def test_touch_targets_are_large_enough(demo_server, tab_factory):
    tab = tab_factory(demo_server.url, "phone")
    tab.login("auditor")
    small = tab.page.evaluate("""() => [...document.querySelectorAll('a.btn, button, input, select, .bottom-nav a')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect().height])
        .filter(([, h]) => h < 40)""")
    assert small == []
    tab.assert_clean()


def test_facility_search_updates_the_list_with_htmx(demo_server, tab_factory):
    tab = tab_factory(demo_server.url, "tablet")
    tab.login("auditor")
    tab.page.fill("#q", "Puskesmas")
    tab.page.wait_for_function("() => document.querySelectorAll('#results .row-title').length === 2")
    titles = tab.page.locator("#results .row-title").all_inner_texts()
    assert sorted(titles) == ["Puskesmas Cipocok Jaya", "Puskesmas Serang"]
    assert "q=Puskesmas" in tab.page.url  # pushed URL: reload shows the same list
    tab.page.reload()
    assert tab.page.locator("#results .row-title").count() == 2
    tab.assert_clean()


def test_nearest_first_uses_the_browser_position(demo_server, chromium, tab_factory):
    tab = tab_factory(demo_server.url, "phone", geolocation={"latitude": -6.14, "longitude": 106.17},
                      permissions=["geolocation"])
    tab.login("auditor")
    tab.page.click("[data-locate]")
    tab.page.wait_for_function("() => location.search.includes('lat=')")
    tab.page.wait_for_selector("#results .row-side .muted")
    distances = tab.page.locator("#results .row-side .muted").all_inner_texts()
    values = [float(d.split()[0].replace(",", ".")) for d in distances]
    assert values == sorted(values) and len(values) >= 10
    tab.shot("auditor-nearest-phone-id")
    tab.assert_clean()
