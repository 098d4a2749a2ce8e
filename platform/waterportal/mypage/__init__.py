"""Everything under ``/mypage``: ``usage`` (dashboard, graph, bills, documents; blueprint
``portal``) and ``account`` (the member's own account and contracts; blueprint ``profile``)."""
