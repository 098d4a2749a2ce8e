"""City settings edited in the console: forms built from the tenant.toml schemas, preview, revisions, rollback."""
