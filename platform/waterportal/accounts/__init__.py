"""Citizens: registration, login, recovery, profile and withdrawal."""
