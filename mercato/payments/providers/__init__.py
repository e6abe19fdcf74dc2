"""Private: payment providers (the gateway clients) behind one Protocol (``base.py``)."""
