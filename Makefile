# The two commands: `make run` (portal with demo data on SQLite) and `make test`.
PY ?= python3
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
	PORTAL_DEBUG=true $(BIN)/flask db upgrade
	PORTAL_DEBUG=true $(BIN)/flask seed-demo

run: db
	@echo
	@echo "  Portal: http://127.0.0.1:5000   staff: http://127.0.0.1:5000/admin/login"
	@echo "  Demo numbers are listed in README.md. SMS passwords are printed in this terminal"
	@echo "  and shown at http://127.0.0.1:5000/dev/sms (development only)."
	@echo
	PORTAL_DEBUG=true FLASK_DEBUG=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/portal.sqlite
