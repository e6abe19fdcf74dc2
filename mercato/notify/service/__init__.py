"""Notification use cases: in-app messages (``messages``) and the email outbox (``emails``)."""
