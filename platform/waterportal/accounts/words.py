"""Registration's choices kept in Japanese, for the catalogues (issue 13 §10).

A city lists 申込者と契約者の関係, 支払方法 and its 秘密の質問 in tenant.toml
(``[registration] relationships``, ``payment_methods``, ``secret_questions``); what the citizen
picks is stored (and read by staff) as the city wrote it. The citizen's pages show each one
through ``shown_word`` (core/i18n.py): its English and やさしい日本語 come from the catalogues for
the words listed here (the schema's defaults and the demo cities'), which ``make translations``
finds. A word a city adds itself is shown as the city wrote it.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

WORDS = (
    _l("本人"),
    _l("家族"),
    _l("その他"),
    _l("アプリ決済に切り替えない"),
    _l("クレジットカード決済に切り替える"),
    _l("口座振替に切り替える"),
    _l("母親の旧姓は?"),
    _l("初めて飼ったペットの名前は?"),
    _l("出身小学校の名前は?"),
    _l("好きな食べ物は?"),
    _l("秘密の質問の答えは?"),
)
