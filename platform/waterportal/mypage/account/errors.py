"""The one refusal the profile services raise: messages (the request's language) and their field."""
from __future__ import annotations


class ProfileError(Exception):
    """A change was refused. ``messages`` are shown next to the form field ``field``."""

    def __init__(self, messages: str | list[str], field: str = "", throttled: bool = False):
        # One message may be a lazy gettext string (not a str, but never a list of messages).
        self.messages = list(messages) if isinstance(messages, list | tuple) else [messages]
        self.field = field
        self.throttled = throttled
        super().__init__(" ".join(str(m) for m in self.messages))

    @property
    def message(self) -> str:
        """All messages as one line."""
        return " ".join(str(m) for m in self.messages)
