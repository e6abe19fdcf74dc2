"""Test factories built on the services."""
