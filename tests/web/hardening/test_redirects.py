"""One safe-next helper: a path on this site, never another host."""
import pytest

from portal.web import safe_next
from tests.web.numbers.test_links import family, link_child, signed_in  # noqa: F401 (fixtures)

BAD = ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
       "/\r/evil.example", " //evil.example", "\t//evil.example", "/\x00/evil.example", "javascript:alert(1)",
       "evil.example", "", None, "///evil.example", "/" + "a" * 3000]
GOOD = ["/", "/payments/history", "/numbers/?tab=1", "/payments/history?start=2026-01-01&end=2026-02-01"]


@pytest.mark.parametrize("value", BAD)
def test_other_hosts_and_control_characters_are_refused(value):
    assert safe_next(value) is None


@pytest.mark.parametrize("value", GOOD)
def test_paths_on_this_site_are_kept(value):
    assert safe_next(value) == value


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\\/evil.example"])
def test_the_number_switcher_never_sends_to_another_host(signed_in, db_session, family, target):  # noqa: F811
    child = link_child(db_session, family)
    response = signed_in.post_form("/numbers/focus", {"account": child.id, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_the_number_switcher_still_goes_back_to_the_page(signed_in, db_session, family):  # noqa: F811
    child = link_child(db_session, family)
    response = signed_in.post_form("/numbers/focus", {"account": child.id, "next": "/payments/history"})
    assert response.headers["Location"] == "/payments/history"
