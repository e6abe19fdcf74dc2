"""Private: email transports (``base`` Protocol, ``console``, ``smtp``) and the registry."""
