"""The one refusal the profile services raise: Japanese messages and the field they belong to."""
from __future__ import annotations


class ProfileError(Exception):
    """A change was refused. ``messages`` are shown next to the form field ``field``."""

    def __init__(self, messages: str | list[str], field: str = "", throttled: bool = False):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.field = field
        self.throttled = throttled
        super().__init__(" ".join(self.messages))

    @property
    def message(self) -> str:
        """All messages as one line."""
        return " ".join(self.messages)
