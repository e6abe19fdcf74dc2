"""Carriers and tracking providers: the courier companies a shop ships with (``registry``) and
the clients that follow their parcels (``base.Tracker``: ``manual``, ``kuaidi100``)."""
