"""The vendor's writes to cities (``flask tenant``): apply a tenant.toml, create, add a host,
disable, enable, export and check. Every change bumps the city's ``version`` and is recorded
in that city's audit log, so it sits above tenancy and audit."""
