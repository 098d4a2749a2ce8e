"""Demo data for ``make demo``: the billing exports a city would send, ready-made members
and staff, and ``flask demo ...``."""
