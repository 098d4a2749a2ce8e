"""The vendor console (``VENDOR_HOSTS`` only): the platform operator's staff, their
sessions, per-city figures and audited one-time links into a city's console."""
