"""Django's PostgreSQL backend with psycopg's own (C) timestamp loader (issue 15); see base.py."""
