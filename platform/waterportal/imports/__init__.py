"""Billing-system exports (CSV) into the database, validated and all-or-nothing per file."""
