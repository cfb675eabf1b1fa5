# The two commands: `make run [PORT=5000]` (portal with demo data on SQLite) and `make test`.
PY ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-pg venv db clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

db: $(VENV)/.installed
	PORTAL_DEBUG=true $(BIN)/flask init-secret-key
	PORTAL_DEBUG=true $(BIN)/flask db upgrade
	PORTAL_DEBUG=true $(BIN)/flask seed-demo

run: db
	@echo
	@echo "  Portal: http://127.0.0.1:$(PORT)   staff: http://127.0.0.1:$(PORT)/admin/login"
	@echo "  Demo numbers are listed in README.md. SMS passwords are printed in this terminal"
	@echo "  and shown at http://127.0.0.1:$(PORT)/dev/sms (development only)."
	@echo
	PORTAL_DEBUG=true FLASK_DEBUG=1 $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# The page checkers the browser tests use (tests/e2e/test_page_quality.py): axe-core and the Nu HTML
# Checker, from npm into .node/. Without npm the tests that need them skip (and fail in CI).
NODE_TOOLS := axe-core@4.14.1 vnu-jar@26.9.27
.node/.installed: Makefile
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix .node $(NODE_TOOLS) && touch $@; \
	else echo "npm not found: the accessibility and HTML checks will be skipped"; fi

test: $(VENV)/.installed-test .node/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/portal.sqlite

# Translations (docs/architecture.md §2): extract every _() / _l() string from portal/ into
# portal/translations/messages.pot, merge it into the Russian catalog (created the
# first time), compile the .mo.  Commit messages.pot, ru/.../messages.po AND .mo:
# the app reads the .mo, so a fresh clone works without compiling.  Translate every
# new or fuzzy entry in messages.po (remove the "fuzzy" flag), then run it again;
# tests/unit/test_translations.py fails while anything is untranslated.
TX := portal/translations
TX_LOCALES := ru

.PHONY: translations
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -c TRANSLATORS: \
		--no-location --sort-output --no-wrap --project=portal --version=1 \
		-o $(TX)/messages.pot.new .
	@# Keep the old .pot when only its creation date changed, so the diff stays empty.
	@if [ -f $(TX)/messages.pot ] && diff -q -I '^"POT-Creation-Date: ' $(TX)/messages.pot $(TX)/messages.pot.new >/dev/null; \
		then rm $(TX)/messages.pot.new; else mv $(TX)/messages.pot.new $(TX)/messages.pot; fi
	@for l in $(TX_LOCALES); do \
		if [ ! -f $(TX)/$$l/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel init -i $(TX)/messages.pot -d $(TX) -l $$l --no-wrap || exit 1; \
		fi; \
	done
	$(BIN)/pybabel -q update -i $(TX)/messages.pot -d $(TX) --no-wrap --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(TX) --statistics
