"""Identity use cases, split by concern behind the package front door."""
