"""お知らせ, FAQ and contact windows."""
