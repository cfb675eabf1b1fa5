"""CSV files customers open in a spreadsheet: no cell may run as a formula.

Staff text (an adjustment's reason, a service's name) and counterparts reach these files;
a cell like ``=HYPERLINK("http://evil.example", "Refund")`` would be a live link or worse in
Excel or LibreOffice. Such a cell gets a leading apostrophe, which spreadsheets read as
"this is text" (OWASP's advice for CSV injection).

A plain number is data, not a formula, and stays readable: ``-35.00`` (a debit),
``+79161234567`` (a number in E.164) keep their sign.
"""
import csv
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def formula_safe(value):
    """The cell as given, or text that cannot start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows pass through ``formula_safe`` cell by cell."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row):
        return self._writer.writerow([formula_safe(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> SafeWriter:
    """The one CSV writer of the portal's exports."""
    return SafeWriter(out, **options)
