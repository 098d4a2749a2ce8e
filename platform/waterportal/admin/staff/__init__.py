"""City staff accounts: creation, roles, passwords and the second factor."""
