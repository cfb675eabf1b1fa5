import csv
import io
from datetime import timedelta

import pytest

from portal.domain import history
from portal.domain.csv_export import csv_writer, formula_safe
from portal.domain.history import Period
from portal.models import LedgerEntry, utcnow
from tests import factories


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example","Refund")', "+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=1", "- 35,00", "+"])
def test_cells_that_could_start_a_formula_become_text(cell):
    assert formula_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-35.00", "-35,00", "+79161234567", "1000.00", "0", "Refund for 12 May",
                                  "Сервисный сбор", "", "a=b", 42, -35, None])
def test_numbers_and_ordinary_text_stay_as_they_are(cell):
    assert formula_safe(cell) == cell


def test_the_writer_neutralises_every_cell_of_a_row():
    out = io.StringIO()
    csv_writer(out).writerow(["=1+1", "-35.00", "@x", 7])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+1", "-35.00", "'@x", "7"]


def test_a_staff_reason_reaches_the_history_csv_as_text(app, db_session):
    account = factories.make_line(db_session, balance=0)
    db_session.add(LedgerEntry(account_id=account.id, amount=-3500, kind="adjustment", created_at=utcnow(),
                               description='=HYPERLINK("http://evil.example","Refund")'))
    db_session.commit()
    today = utcnow().date()
    period = Period(today - timedelta(days=1), today + timedelta(days=1))
    text = "".join(history.csv_lines(db_session, account.id, period, []))
    row = list(csv.reader(io.StringIO(text)))[1]
    assert '\'=HYPERLINK("http://evil.example","Refund")' in row and "-35.00" in row
    assert not any(cell.startswith("=") for cell in row)


def test_every_csv_export_uses_the_one_safe_writer():
    from pathlib import Path

    portal = Path(__file__).parents[2] / "portal"
    offenders = [str(p) for p in portal.rglob("*.py") if "csv.writer(" in p.read_text(encoding="utf-8")
                 and p.name != "csv_export.py"]
    assert offenders == []
