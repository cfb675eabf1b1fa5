"""blocking — see portal/numbers/__init__.py."""
