"""What the database can store: values outside are refused as bad input, not sent to it.

PostgreSQL raises on an integer beyond its column (``integer`` ids, ``bigint`` usage ids)
and on a NUL character in text, where SQLite stores both; so a number or text from a
request is checked here before it reaches a query.
"""

DB_INT_MAX = 2**31 - 1  # an ``integer`` column: every id but the usage records'
DB_BIGINT_MAX = 2**63 - 1


def db_int(value) -> int:
    """A whole number an ``integer`` id column can hold (0 or more); ValueError otherwise.

    Usable as ``type=`` of ``request.args.get`` and as ``coerce=`` of a select field.
    """
    number = int(value)
    if not 0 <= number <= DB_INT_MAX:
        raise ValueError(f"{number} is out of range")
    return number
