"""Password reset (email cities) and login-ID recovery (login-ID cities)."""
