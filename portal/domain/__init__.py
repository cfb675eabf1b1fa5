"""The rules of the portal: plain functions over a SQLAlchemy Session, no Flask request state."""
