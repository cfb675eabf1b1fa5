"""Receipts and operation codes: every money operation a customer makes has a short code to read out over the
phone (codes), a receipt page and its PDF (receipt, pdf), and can be found again by the code (receipt.find)."""
