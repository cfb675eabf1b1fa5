"""The Russian catalog: complete, compiled, and actually used.

Russian is the default language (docs/architecture.md §2); every English string in the
sources must have a reviewed (non-fuzzy) Russian translation, and the committed
.mo must be the compilation of the committed .po, since the app reads only the
.mo.  When these fail: run ``make translations``, translate what it reports in
portal/translations/ru/LC_MESSAGES/messages.po (remove any "fuzzy" flag), run
``make translations`` again and commit messages.pot, messages.po and messages.mo.
"""
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "portal" / "translations"
RU_PO = TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po"
RU_MO = TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.mo"
# The Makefile adds these to babel.cfg's own keywords with -k (older Babels ignore
# keywords in the mapping file); keep the two lists in step.
EXTRA_KEYWORDS = {"lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%")

HOW_TO_FIX = ("Run `make translations`, translate the entries it leaves empty or fuzzy in "
              f"{RU_PO.relative_to(ROOT)}, run `make translations` again and commit the .pot, .po and .mo.")


def msgid_of(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def load_po():
    with RU_PO.open("rb") as f:
        return read_po(f, locale="ru")


def source_msgids() -> set:
    """Every msgid in the current sources, extracted in-process with babel.cfg's mapping."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename="babel.cfg")
    from babel.messages.extract import DEFAULT_KEYWORDS

    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={**DEFAULT_KEYWORDS, **EXTRA_KEYWORDS}
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


def test_every_source_string_is_translated_into_russian():
    catalog = load_po()
    extracted = source_msgids()
    assert len(extracted) > 50, "extraction found almost nothing: is babel.cfg right?"
    problems = []
    for context, msgid in sorted(extracted, key=lambda item: (item[1], item[0] or "")):
        entry = catalog.get(msgid, context=context)
        if entry is None:
            problems.append(f"missing:      {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy:        {msgid!r}")
        elif not (all(entry.string) if isinstance(entry.string, tuple) else entry.string):
            problems.append(f"untranslated: {msgid!r}")
    assert not problems, (f"{len(problems)} English string(s) have no Russian translation:\n  "
                          + "\n  ".join(problems) + "\n" + HOW_TO_FIX)


def test_catalog_is_usable():
    catalog = load_po()
    assert not catalog.fuzzy, "the .po header is marked fuzzy: pybabel compile would skip the whole catalog"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy entry: {msgid_of(message)!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for string in strings:
            if string and sorted(set(PLACEHOLDER.findall(string))) != wanted:
                problems.append(f"placeholders differ: {msgid_of(message)!r} → {string!r}")
    problems += [f"{message.lineno}: {error}" for message, errors in catalog.check() for error in errors]
    assert not problems, "\n".join(problems) + "\n" + HOW_TO_FIX


def _hashable(value):
    """read_mo gives a plural's forms as a list."""
    return tuple(value) if isinstance(value, list) else value


def _key(message):
    return message.context, _hashable(message.id)


def test_compiled_mo_matches_the_po():
    catalog = load_po()
    compiled = BytesIO()
    write_mo(compiled, catalog)  # as pybabel compile does: fuzzy entries left out
    compiled.seek(0)
    expected = {_key(m): _hashable(m.string) for m in read_mo(compiled) if m.id}
    with RU_MO.open("rb") as f:
        committed = {_key(m): _hashable(m.string) for m in read_mo(f) if m.id}
    stale = sorted({key for key in expected.keys() | committed.keys()
                    if expected.get(key) != committed.get(key)}, key=str)
    assert not stale, (f"{RU_MO.relative_to(ROOT)} is out of date with the .po for "
                       f"{len(stale)} message(s), e.g. {[k[1] for k in stale[:5]]}.\n" + HOW_TO_FIX)


# ---- the app actually speaks Russian ----------------------------------------------

@pytest.fixture
def config_overrides() -> dict:
    # tests/conftest.py makes English the default so other tests can read it; undo that.
    return {"BABEL_DEFAULT_LOCALE": "ru"}


def test_flask_babel_finds_the_catalog(app):
    from flask_babel import get_translations, gettext

    with app.test_request_context("/"):
        assert "ru" in [str(locale) for locale in app.extensions["babel"].instance.list_translations()]
        assert get_translations().gettext("Sign in") == "Войти"
        assert gettext("Get a password by SMS") == "Получить пароль по SMS"


def test_russian_by_default_and_english_on_request_without_js(client):
    page = client.get("/auth/login")
    assert page.status_code == 200
    assert '<html lang="ru">' in page.text
    assert "Личный кабинет" in page.text
    assert "Получить пароль по SMS" in page.text
    assert "Get a password by SMS" not in page.text

    # The footer's plain form (no htmx headers): 303 back to the page it came from.
    switched = client.post_form("/auth/language", {"lang": "en"},
                                headers={"Referer": "http://localhost/auth/login"})
    assert switched.status_code == 303
    assert switched.headers["Location"].endswith("/auth/login")

    page = client.get("/auth/login")
    assert '<html lang="en">' in page.text
    assert "Get a password by SMS" in page.text
    assert "Личный кабинет" not in page.text

    client.post_form("/auth/language", {"lang": "ru"}, headers={"Referer": "http://localhost/auth/login"})
    assert "Личный кабинет" in client.get("/auth/login").text
