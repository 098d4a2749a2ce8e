"""What the demo generator knows about each demo city: addresses, phones, numbering.

The charges come from the city's ``[tariff]`` in tenant.toml (billing/tariff.py, the
料金シミュレーション's own arithmetic); the demo cities' tariffs are examples, not their
real ordinances.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Household:
    """One contract's fixed facts. ``persons`` drives usage; 0 means a shop (業務用).

    ``reading_group`` 0 is read in odd months, 1 in even months (bimonthly cities only);
    ``autopay`` households pay by 口座振替 on the due date, the others at a counter.
    """

    customer_number: str
    holder_name: str
    holder_name_kana: str
    phone: str
    address: str
    meter_number: str
    meter_diameter_mm: int
    persons: int
    reading_day: int
    has_sewer: bool = True
    vacant: bool = False
    usage_factor: float = 1.0
    reading_group: int = 0
    autopay: bool = True
    delinquent: bool = False
    # Demo examples (issue 12): the newest past-due 口座振替 failed (資金不足, still open);
    # the newest bill carries this 通信欄.
    failed_transfer: bool = False
    message: str = ""
    # Issue 14 §1: the newest bill's usage is this many m³ higher (a leak since the last reading),
    # so the bills import flags it (漏水の可能性) and mails the demo member.
    leak_m3: int = 0


@dataclass(frozen=True)
class CityProfile:
    """Demo knowledge of one city; ``fixed`` are the README's demo contracts, generated first."""

    slug: str
    encoding: str
    halfwidth_kana: bool
    season_amplitude: float
    phone: Callable[[random.Random], str]
    address: Callable[[random.Random], tuple[str, bool]]
    customer_number: Callable[[int, random.Random, int], str]
    meter_number: Callable[[int, random.Random], str]
    fixed: tuple[Household, ...]
    surnames: tuple[tuple[str, str], ...] = ()
    # Areas read every two months in a monthly city (the contract's billing_cycle, issue 12 §5).
    bimonthly_areas: tuple[str, ...] = ()


SURNAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("髙橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斉藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"),
    ("石川", "イシカワ"), ("前田", "マエダ"), ("藤田", "フジタ"), ("小川", "オガワ"), ("岡田", "オカダ"),
    ("後藤", "ゴトウ"), ("長谷川", "ハセガワ"), ("村上", "ムラカミ"), ("近藤", "コンドウ"), ("坂本", "サカモト"),
    ("遠藤", "エンドウ"), ("青木", "アオキ"), ("藤井", "フジイ"), ("西村", "ニシムラ"), ("福田", "フクダ"),
    ("太田", "オオタ"), ("三浦", "ミウラ"), ("藤原", "フジワラ"), ("岡本", "オカモト"), ("中川", "ナカガワ"),
)
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("太郎", "タロウ"), ("一郎", "イチロウ"), ("健一", "ケンイチ"), ("誠", "マコト"), ("浩", "ヒロシ"),
    ("隆", "タカシ"), ("修", "オサム"), ("茂", "シゲル"), ("大輔", "ダイスケ"), ("翔太", "ショウタ"),
    ("拓也", "タクヤ"), ("直樹", "ナオキ"), ("和夫", "カズオ"), ("正樹", "マサキ"), ("勝", "マサル"),
    ("裕介", "ユウスケ"), ("悠斗", "ユウト"), ("花子", "ハナコ"), ("洋子", "ヨウコ"), ("恵子", "ケイコ"),
    ("幸子", "サチコ"), ("美穂", "ミホ"), ("裕子", "ユウコ"), ("由美子", "ユミコ"), ("直美", "ナオミ"),
    ("真由美", "マユミ"), ("久美子", "クミコ"), ("彩", "アヤ"), ("智子", "トモコ"), ("明美", "アケミ"),
    ("さくら", "サクラ"), ("美咲", "ミサキ"), ("千尋", "チヒロ"), ("和子", "カズコ"), ("節子", "セツコ"),
)
BUILDINGS = ("コーポ", "ハイツ", "メゾン", "グランドール", "サンライズ")


# --- 名寄市: monthly billing, area code 01654, 条丁目 addresses, rural areas on septic tanks.

def _nayoro_address(rng: random.Random) -> tuple[str, bool]:
    roll = rng.random()
    if roll < 0.62:
        side = rng.choice(("西", "東"))
        street = f"{side}{rng.randint(1, 13 if side == '西' else 8)}条{rng.choice(('南', '北'))}"
        address = f"名寄市{street}{rng.randint(1, 12)}丁目{rng.randint(1, 40)}番地"
        if rng.random() < 0.15:
            address += f" {rng.choice(BUILDINGS)}{street}{rng.randint(1, 3)}0{rng.randint(1, 6)}号室"
        return address, True
    if roll < 0.92:
        town = rng.choice(("西町", "本町", "東町", "南町", "北栄町", "緑町", "仲町"))
        return f"名寄市風連町{town}{rng.randint(1, 320)}番地{rng.randint(1, 9)}", True
    # Rural 字 areas: no public sewer (合併浄化槽), so their bills carry no sewer charge.
    area = rng.choice(("智恵文", "日進", "砺波", "瑞穂", "内淵", "徳田"))
    return f"名寄市字{area}{rng.randint(100, 2999)}番地", False


def _nayoro_phone(rng: random.Random) -> str:
    return f"01654-{rng.choice((2, 3, 8))}-{rng.randint(1000, 9999)}"


def _nayoro_customer_number(index: int, rng: random.Random, digits: int) -> str:
    # Random households never collide with the fixed ones (000123456xx): 001xxxxxxxx upwards.
    return str(100_000_000 + index * 1_000 + rng.randrange(1_000)).zfill(digits)


def _nayoro_meter(index: int, rng: random.Random) -> str:
    return str(60_000 + index * 10 + rng.randrange(10))


NAYORO = CityProfile(
    slug="nayoro",
    encoding="utf-8",
    halfwidth_kana=False,
    season_amplitude=0.14,
    phone=_nayoro_phone,
    address=_nayoro_address,
    customer_number=_nayoro_customer_number,
    meter_number=_nayoro_meter,
    fixed=(
        Household("00012345671", "名寄 太郎", "ナヨロ タロウ", "01654-2-1234", "名寄市風連町西町196番地1",
                  "54321", 13, persons=3, reading_day=20),
        Household("00012345682", "風連 花子", "フウレン ハナコ", "01654-3-5678", "名寄市西4条南7丁目3番地",
                  "54388", 20, persons=4, reading_day=12, failed_transfer=True,
                  message="水道メーターの有効期限が近づいています。後日、係員が交換にお伺いします。", leak_m3=30),
    ),
    surnames=(("工藤", "クドウ"), ("成田", "ナリタ"), ("菅原", "スガワラ"), ("千葉", "チバ")),
    bimonthly_areas=("風連町", "智恵文"),
)


# --- 金沢市: bimonthly billing, area code 076, 丁目番号 addresses, a Shift_JIS export with 半角カナ.

_KANAZAWA_TOWNS = (
    ("広坂", 2), ("香林坊", 2), ("片町", 2), ("長町", 3), ("東山", 3), ("尾張町", 2), ("本町", 2),
    ("野町", 5), ("寺町", 5), ("小立野", 5), ("泉が丘", 2), ("円光寺", 3), ("西念", 4), ("駅西本町", 6),
    ("有松", 5), ("額新町", 2), ("元町", 2), ("此花町", 0), ("兼六町", 0), ("玉川町", 0), ("昭和町", 0),
)


def _kanazawa_address(rng: random.Random) -> tuple[str, bool]:
    town, chome = rng.choice(_KANAZAWA_TOWNS)
    block = f"{rng.randint(1, chome)}丁目" if chome else ""
    address = f"金沢市{town}{block}{rng.randint(1, 25)}番{rng.randint(1, 30)}号"
    if rng.random() < 0.2:
        address += f" {rng.choice(BUILDINGS)}{town}{rng.randint(1, 5)}0{rng.randint(1, 8)}"
    return address, True


def _kanazawa_phone(rng: random.Random) -> str:
    return f"076-{rng.choice((221, 222, 231, 232, 241, 243, 251, 252, 261, 262, 263))}-{rng.randint(1000, 9999)}"


def _kanazawa_customer_number(index: int, rng: random.Random, digits: int) -> str:
    return str(200_000_000 + index * 1_000 + rng.randrange(1_000)).zfill(digits)


def _kanazawa_meter(index: int, rng: random.Random) -> str:
    # Meter serials carry the year of manufacture, e.g. "19-004217".
    # Fixed demo meters are below 010000, so random serials never repeat them.
    return f"{rng.randint(16, 24):02d}-{10_000 + index * 10 + rng.randrange(10):06d}"


KANAZAWA = CityProfile(
    slug="kanazawa",
    encoding="cp932",
    halfwidth_kana=True,
    season_amplitude=0.10,
    phone=_kanazawa_phone,
    address=_kanazawa_address,
    customer_number=_kanazawa_customer_number,
    meter_number=_kanazawa_meter,
    fixed=(
        Household("0100012345", "金沢 一郎", "カナザワ イチロウ", "076-231-4567", "金沢市広坂1丁目2番5号",
                  "19-000123", 13, persons=2, reading_day=10, leak_m3=30,
                  message="前回より使用水量が増えています。漏水の可能性がありますので、点検をお勧めします。"),
        # The same holder's shop: a second お客さま番号 to add after registering the first.
        Household("0100012356", "金沢 一郎", "カナザワ イチロウ", "076-231-4567", "金沢市片町2丁目8番14号",
                  "21-000456", 25, persons=0, reading_day=10, failed_transfer=True),
    ),
    surnames=(("山下", "ヤマシタ"), ("中西", "ナカニシ"), ("北村", "キタムラ"), ("米田", "ヨネダ")),
)

PROFILES: dict[str, CityProfile] = {p.slug: p for p in (NAYORO, KANAZAWA)}
