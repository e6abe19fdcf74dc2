"""SMS providers: a Protocol, a console provider for embedded mode and tests, and Twilio."""
