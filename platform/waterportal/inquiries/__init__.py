"""「メールでのお問い合わせ」: the citizen inquiry form, its records and their mails."""
