"""Mercato: a self-operated e-commerce platform."""
