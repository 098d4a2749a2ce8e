"""Daily meter readings (smart meters) and 見守り (issue 14 §6)."""
