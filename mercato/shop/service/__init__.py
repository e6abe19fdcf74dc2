"""Shop use cases: settings (settings.py) and legal pages (legal.py)."""
