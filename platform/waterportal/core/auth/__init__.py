"""One auth core for the three account kinds: members (citizens), city staff and vendor staff.

* :mod:`.passwords`: argon2id hashing and the one password policy (platform floor + a city's rules);
* :mod:`.sessions`: server-side login sessions (random key in the cookie, its SHA-256 in the table);
* :mod:`.pending`: "password passed, second factor awaited" (staff, vendor);
* :mod:`.second_factor`: TOTP codes, each usable once, throttled;
* :mod:`.throttling`: login failure throttles per account and per client address.

Each kind keeps only what really differs in its own package: who the accounts are, their
timeouts and roles, and the glue to its views (accounts/session.py, admin/sessions.py,
vendor_console/auth.py).
"""
