"""The audit log: who did what, when and from where, per city (a tenant-scoped table)."""
