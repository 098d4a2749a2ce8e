"""Tenancy: host -> city, the explicit tenant context, settings, templates, service hours."""
