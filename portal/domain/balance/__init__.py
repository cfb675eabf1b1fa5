"""The balance seen ahead: how long the money lasts (the dashboard's forecast)."""
