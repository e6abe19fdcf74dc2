"""Shared plumbing: settings, database, money, events, jobs, cache, errors, i18n.

No business rules; imports no domain.
"""
