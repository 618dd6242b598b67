"""Haven uses Django's own user model; roles are groups (see services.py)."""
