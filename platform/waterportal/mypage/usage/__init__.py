"""Member pages (会員さま専用サイト): dashboard, graph, bills, documents, contract selection."""
