"""Vendor tools: the demo data generator and its CLI (``flask demo ...``)."""
