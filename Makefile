# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two install steps: the demo needs the app and its mail catcher (the demo extra); tests and
# lint add the test extra (pytest, Playwright, ruff, import-linter: most of the venv's size).
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
export PATH := $(CURDIR)/$(BIN):$(PATH)
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=

# Demo: both cities on one port, told apart by the Host (nayoro.localhost, kanazawa.localhost).
# Loopback only by default; DEMO_BIND=0.0.0.0:8000 shows it to other machines on the network.
# A second demo on the same machine needs its own web and mail ports:
# DEMO_BIND=127.0.0.1:8001 DEMO_MAIL_PORT=8026 make demo.
DEMO_BIND ?= 127.0.0.1:8000
DEMO_MAIL_PORT ?= 8025
DEMO_PORT = $(lastword $(subst :, ,$(DEMO_BIND)))
# Links in the demo's mail and printed URLs follow the port it serves on.
export FLASK_PORTAL_BASE_URL = http://{host}:$(DEMO_PORT)
# The app (web, outbox worker, notices loop) sends to the catcher this demo starts, not to
# whichever catcher holds config/development.toml's 8025.
export FLASK_MAIL_PORT = $(DEMO_MAIL_PORT)
DEMO_CITIES := nayoro kanazawa
DEMO_CONTRACTS ?= 300
DEMO_MONTHS ?= 26
DEMO_DATA := instance/demo
# The catcher's folder: demo-mail/ for the default port, demo-mail-<port>/ for any other, so
# two demos run from one checkout keep their mail apart too.
DEMO_MAIL ?= demo-mail$(if $(filter-out 8025,$(DEMO_MAIL_PORT)),-$(DEMO_MAIL_PORT))

.PHONY: install install-test test test-night demo demo-data demo-reset serve bench faults lint clean translations

$(APP_STAMP): setup.cfg pyproject.toml MANIFEST.in
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(TEST_STAMP): $(APP_STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(APP_STAMP)

install-test: $(TEST_STAMP)

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set
# (each run creates and drops its own databases). Browser tests skip without Chromium
# unless REQUIRE_BROWSER=1. With SCREENSHOTS_DIR set (.ci/run) the axe walk saves its
# screenshots in the SQLite pass only: the pages are the same on PostgreSQL and at night.
test: lint
	env -u TEST_DATABASE_URL $(BIN)/pytest -n auto $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  env -u SCREENSHOTS_DIR $(BIN)/pytest -n auto $(PYTEST_ARGS); \
	fi

# The suite once more on SQLite with the machine's clock at 03:30 JST (18:30 UTC), when
# Kanazawa's service hours (07:00-02:00) are closed: it proves that no test depends on the
# hour CI happens to run at (every test runs on the frozen clock of tests/clock.py).
# libfaketime (Debian package faketime) fakes the real clock of pytest, its xdist workers and
# their children; -m is its thread-safe build (the suite runs threads: live server, SMTP), and
# the monotonic clock stays real: faked, every timed wait of CPython hangs (tests/clock.py).
# Another moment: make test-night NIGHT='2026-11-29 23:59:00 +0900'
NIGHT ?= 2026-11-27 03:30:00 +0900
test-night: install-test
	@command -v faketime >/dev/null || { echo "test-night needs libfaketime: apt-get install faketime"; exit 1; }
	env -u TEST_DATABASE_URL -u SCREENSHOTS_DIR faketime -m --exclude-monotonic '$(NIGHT)' $(BIN)/pytest -n auto $(PYTEST_ARGS)

# Benchmarks print ratios against a baseline measured in the same run (docs/performance.md).
bench: install
	$(BIN)/python bench/bench_import.py
	@if [ -f bench/bench_dashboard.py ]; then $(BIN)/python bench/bench_dashboard.py; fi
	$(BIN)/python bench/bench_http.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/python bench/bench_http.py --postgres "$$TEST_DATABASE_URL"; fi
	$(BIN)/python bench/bench_fanout.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/python bench/bench_fanout.py --postgres "$$TEST_DATABASE_URL"; fi
	$(BIN)/python bench/bench_insight.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/python bench/bench_insight.py --postgres "$$TEST_DATABASE_URL"; fi
	$(BIN)/python bench/bench_cities.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/python bench/bench_cities.py --postgres "$$TEST_DATABASE_URL"; fi

# Faults under load (docs/reliability.md): the script starts its own PostgreSQL (initdb), Redis
# and SMTP server, runs the app under gunicorn with load, stops each service in turn and
# prints what was lost. Needs the PostgreSQL server binaries and redis-server on the machine.
# Not part of `make test`: it boots several processes and takes about a minute even --quick.
# The full run (5-minute SMTP outage): make faults FAULTS_ARGS=
FAULTS_ARGS ?= --quick
faults: install-test
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

# ruff, then the import contracts in .importlinter (which package may import which).
lint: install-test
	$(BIN)/ruff check platform tests bench
	$(BIN)/lint-imports

# Build or update the SQLite database, apply both cities, load their demo exports through
# the real import and add one ready-made member per city. Idempotent: the database is kept
# (members registered while trying the demo survive), importing the same files again
# leaves every row unchanged and an existing demo member is left alone.
demo-data: install
	$(FLASK) db upgrade
	for city in $(DEMO_CITIES); do $(FLASK) tenant apply tenants/$$city || exit 1; done
	$(FLASK) demo generate --contracts $(DEMO_CONTRACTS) --months $(DEMO_MONTHS) $(DEMO_DATA)
	for city in $(DEMO_CITIES); do \
	  $(FLASK) import contracts --tenant $$city $(DEMO_DATA)/$$city/contracts.csv || exit 1; \
	  $(FLASK) import bills --tenant $$city $(DEMO_DATA)/$$city/bills.csv || exit 1; \
	  $(FLASK) import readings --tenant $$city $(DEMO_DATA)/$$city/readings.csv || exit 1; \
	  $(FLASK) import documents --tenant $$city $(DEMO_DATA)/$$city/documents || exit 1; \
	done
	$(FLASK) demo members
	$(FLASK) demo staff
	$(FLASK) demo procedures
	$(FLASK) demo alerts

# One gunicorn process with threads: the demo keeps throttles in memory, which several
# worker processes would not share (production uses Redis, see docs/operations.md).
# The mail catcher, the outbox worker (retries any mail the web process could not hand
# over) and a loop mailing scheduled notices once a minute (`flask notices mail-due`, cron in
# production; with it the day's 各種お手続き summary, `flask procedures daily-summary`, sent once
# a day per city that asks for it) run in the background, gunicorn in the foreground. Ctrl-C stops gunicorn and the
# EXIT trap stops the others by pid (background jobs of a non-interactive shell ignore
# SIGINT, so they would otherwise outlive the demo).
serve: install
	@mkdir -p $(DEMO_MAIL)
	@PYTHONUNBUFFERED=1 $(BIN)/python -m waterportal.mail.catcher --port $(DEMO_MAIL_PORT) --dir $(DEMO_MAIL) & \
	catcher=$$!; \
	$(FLASK) outbox send --loop --interval 5 & \
	worker=$$!; \
	while :; do $(FLASK) notices mail-due | grep -v ': 0 mail' ; $(FLASK) procedures daily-summary | grep -v 'already sent today' ; sleep 60; done & \
	notices=$$!; \
	trap 'kill $$catcher $$worker $$notices 2>/dev/null; wait $$catcher $$worker $$notices 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo; $(FLASK) demo contracts; \
	echo; echo "Consoles (demo accounts):"; $(FLASK) demo staff; \
	echo "Mail: printed here and saved in $(DEMO_MAIL)/ (SMTP catcher on 127.0.0.1:$(DEMO_MAIL_PORT))"; \
	echo "Serving on http://$(DEMO_BIND) - open http://nayoro.localhost:$(DEMO_PORT)/ and http://kanazawa.localhost:$(DEMO_PORT)/ (Ctrl-C stops)"; \
	echo "Staff consoles: http://nayoro.localhost:$(DEMO_PORT)/admin/ and http://kanazawa.localhost:$(DEMO_PORT)/admin/ - vendor console: http://vendor.localhost:$(DEMO_PORT)/"; \
	echo; \
	$(BIN)/gunicorn -w 1 --threads 8 -b $(DEMO_BIND) --access-logfile - wsgi:app

demo: demo-data
	@$(MAKE) --no-print-directory serve

# Start the demo from scratch: drops the demo database, exports and caught mail.
demo-reset:
	rm -rf instance/waterportal.sqlite3 instance/waterportal.sqlite3-wal instance/waterportal.sqlite3-shm \
	  $(DEMO_DATA) $(DEMO_MAIL)

clean:
	rm -rf $(VENV) instance demo-mail demo-mail-* build *.egg-info platform/*.egg-info

# The citizen languages' catalogues (core/i18n.py): extract the marked strings of the citizen
# templates and Python (babel.cfg), merge them into the en and easy .po files, compile the .mo
# files (committed, so a clean clone and a wheel need no build step). tests/core/test_i18n.py
# fails while a marked string of a translated template has no translation or a .mo is stale.
TRANSLATIONS := platform/waterportal/translations
translations: $(APP_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k _l -k lazy_gettext --no-location --sort-output --omit-header -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d $(TRANSLATIONS) --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics
