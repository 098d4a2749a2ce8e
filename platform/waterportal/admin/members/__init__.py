"""会員サポート: member search and support actions (all audited)."""
