"""The operator console: staff sign-in, the dashboard and the audit log. Pages call identity's
front door and render; they own no rules."""
