#!/usr/bin/env python3
"""Regenerate the `shop` example: five exports of one Chinese beauty retailer for 2024.

Writes, next to this script:

    crm_contacts.csv            customers  UTF-8            the CRM, source of customer ids
    web_orders_2024H1.csv       orders     UTF-8 with BOM   web shop, Jan..early Jul
    web_orders_2024H2.csv       orders     UTF-8            web shop, late Jun..Dec (overlaps H1)
    store_pos_2024.csv          orders     GBK, CRLF        point-of-sale export, Chinese headers
    marketplace_orders.parquet  orders     parquet          marketplace, epoch ms + amounts in cents
    app_events.ndjson           events     NDJSON           app events, ISO 8601 UTC timestamps
    expected.json               ground truth for `custseg ingest` with --as-of 2025-01-01
    README.md                   only the planted-rows table between its markers is rewritten

The ground truth is computed from the generator's own records (who bought what, which
row was spoiled on purpose and how), never by reading the written files back. The only
place that parses written strings is `self_check`, which asserts that every formatted
phone, e-mail and amount cleans back to the value it was made from, so a formatting
slip in this script fails here instead of showing up as a custseg bug.

Needs pyarrow for the parquet file (`pip install pyarrow`). Deterministic: a fixed seed,
no clock, sorted output. Run: `python3 examples/shop/make_data.py`.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:  # pragma: no cover - a hint, not a feature
    sys.exit("make_data.py: error: pyarrow is missing\nmake_data.py: hint: pip install pyarrow")

HERE = Path(__file__).resolve().parent
SEED = 20240618
AS_OF = "2025-01-01"
# Asia/Shanghai has had no daylight saving since 1991: a fixed +08:00 is exact for 2024.
SHANGHAI = timezone(timedelta(hours=8))
CENT = Decimal("0.01")

# The web export was pulled twice: H1 up to the end of 2024-07-03, H2 from 2024-06-28 on.
# Rows in [H2_FROM, H1_UNTIL) are in both files, so ingest must keep them once.
H1_UNTIL = datetime(2024, 7, 4)
H2_FROM = datetime(2024, 6, 28)

SOURCE_ORDER = ["crm", "web", "store", "marketplace", "app"]
SOURCE_KIND = {"crm": "customers", "web": "orders", "store": "orders",
               "marketplace": "orders", "app": "events"}
# The columns custseg.toml maps, per source: duplicates are judged on these only.
MAPPED = {
    "crm": ["customer_id", "email", "mobile", "mp_buyer_id", "name", "gender", "birthday",
            "city", "province", "signup_date", "member_level"],
    "web": ["Order ID", "Customer Email", "Customer Phone", "Order Date", "SKU", "Category",
            "Brand", "Qty", "Unit Price", "Discount"],
    "store": ["小票号", "会员手机", "交易时间", "商品编码", "品类", "品牌", "数量", "金额"],
    "marketplace": ["buyer_id", "order_no", "paid_at", "sku", "category", "qty", "amount_cents"],
    "app": ["user_email", "event", "ts", "value"],
}
SOURCE_FILES = {"crm": ["crm_contacts.csv"],
                "web": ["web_orders_2024H1.csv", "web_orders_2024H2.csv"],
                "store": ["store_pos_2024.csv"],
                "marketplace": ["marketplace_orders.parquet"],
                "app": ["app_events.ndjson"]}

# ----------------------------------------------------------------------------------------
# people and catalog
# ----------------------------------------------------------------------------------------

SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
            ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
            ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
            ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao")]
GIVEN_F = [("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
           ("艳", "yan"), ("娟", "juan"), ("秀英", "xiuying"), ("霞", "xia"), ("婷", "ting"),
           ("欣怡", "xinyi"), ("雪", "xue"), ("琳", "lin"), ("晓燕", "xiaoyan"), ("佳", "jia")]
GIVEN_M = [("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
           ("勇", "yong"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
           ("浩", "hao"), ("宇", "yu"), ("晨", "chen"), ("刚", "gang"), ("建华", "jianhua")]
MAIL_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com"]
MOBILE_PREFIXES = ["133", "135", "136", "137", "138", "139", "150", "151", "152", "158",
                   "159", "177", "180", "186", "187", "188", "189", "199"]
CITIES = [("上海", "上海"), ("北京", "北京"), ("杭州", "浙江"), ("宁波", "浙江"),
          ("南京", "江苏"), ("苏州", "江苏"), ("广州", "广东"), ("深圳", "广东"),
          ("成都", "四川"), ("武汉", "湖北"), ("西安", "陕西")]
LEVELS = ["普通", "普通", "普通", "银卡", "银卡", "金卡", "钻石"]
STORES = [("SH01", "上海南京东路店"), ("HZ01", "杭州湖滨店"), ("NJ01", "南京新街口店")]
CASHIERS = ["001", "002", "003", "005", "008"]
PAYMENTS = ["Alipay", "WeChat Pay", "UnionPay", "Credit Card"]
MP_SHOPS = ["天猫旗舰店", "京东自营"]

# (brand, product, category, price in yuan)
CATALOG_SPEC = [
    ("珀莱雅", "双抗精华 30ml", "护肤", "349.00"),
    ("珀莱雅", "红宝石面霜 50g", "护肤", "299.00"),
    ("薇诺娜", "舒敏保湿特护霜 50g", "护肤", "268.00"),
    ("薇诺娜", "清透防晒乳 50g", "护肤", "178.00"),
    ("自然堂", "冰肌水 160ml", "护肤", "139.00"),
    ("自然堂", "小紫瓶精华 50ml", "护肤", "329.00"),
    ("兰蔻", "小黑瓶精华 50ml", "护肤", "1080.00"),
    ("兰蔻", "菁纯面霜 60ml", "护肤", "1950.00"),
    ("雅诗兰黛", "小棕瓶眼霜 15ml", "护肤", "720.00"),
    ("雅诗兰黛", "特润修护精华 100ml", "护肤", "1650.00"),
    ("资生堂", "红腰子精华 50ml", "护肤", "790.00"),
    ("欧莱雅", "紫熨斗眼霜 30ml", "护肤", "299.00"),
    ("花西子", "空气蜜粉 8g", "彩妆", "169.00"),
    ("花西子", "雕花口红", "彩妆", "219.00"),
    ("完美日记", "小细跟口红", "彩妆", "89.90"),
    ("完美日记", "十六色眼影盘", "彩妆", "129.90"),
    ("兰蔻", "菁纯口红", "彩妆", "350.00"),
    ("雅诗兰黛", "DW粉底液 30ml", "彩妆", "460.00"),
    ("欧莱雅", "小金管防晒 30ml", "彩妆", "159.00"),
    ("完美日记", "散粉 10g", "彩妆", "79.90"),
    ("兰蔻", "奇迹香水 50ml", "香水", "860.00"),
    ("雅诗兰黛", "欢沁香水 50ml", "香水", "780.00"),
    ("资生堂", "禅香水 50ml", "香水", "690.00"),
    ("自然堂", "身体喷雾 100ml", "香水", "99.00"),
    ("欧莱雅", "洗发露 700ml", "个护", "89.00"),
    ("欧莱雅", "护发精油 100ml", "个护", "129.00"),
    ("薇诺娜", "洁面乳 80g", "个护", "128.00"),
    ("自然堂", "护手霜 3支装", "个护", "59.90"),
    ("珀莱雅", "年度礼盒", "礼盒", "899.00"),
    ("兰蔻", "节日限定礼盒", "礼盒", "2380.00"),
    ("雅诗兰黛", "修护三件套礼盒", "礼盒", "1880.00"),
    ("花西子", "苗族印象礼盒", "礼盒", "599.00"),
]
GIFT = ("GIFT-01", "会员积分兑换 旅行装", "赠品", "自然堂", Decimal("0.00"))


@dataclass
class Product:
    sku: str
    name: str
    category: str
    brand: str
    price: Decimal


@dataclass
class Person:
    """One real buyer or prospect; keys are the CLEAN values ingest should derive."""
    name: str
    gender: str
    email: str | None
    phone: str | None
    ext: str | None
    crm_id: str | None = None     # set for CRM contacts
    pinyin: str = ""
    activity: float = 1.0         # how much this person buys


@dataclass
class Row:
    """One logical export row and what ingest should make of it.

    `copies` > 1 writes the row that many times in a row (an exact duplicate); a web row
    whose time falls in the H1/H2 overlap is written once to each file. `reason` is the
    planted reject reason, None for rows ingest keeps.
    """
    source: str
    when: datetime                 # intended local time, also the sort key
    raw: dict
    keys: dict                     # clean identity keys this row carries: email/phone/ext
    order_id: str | None = None
    amount: Decimal | None = None  # line amount ingest should compute
    is_return: bool = False
    reason: str | None = None
    note: str = ""                 # README text for planted rows
    copies: int = 1
    files: list = field(default_factory=list)
    lines: list = field(default_factory=list)  # (file, physical line) once written


# ----------------------------------------------------------------------------------------
# independent cleaning, used only by self_check on the strings this script formats
# ----------------------------------------------------------------------------------------

def clean_phone(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    if len(digits) > 11:
        if digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86"):
            digits = digits[2:]
    return digits or None


def clean_email(raw: str) -> str | None:
    text = raw.strip().lower()
    return text if "@" in text else None


def clean_amount(raw: str) -> Decimal:
    text = raw.strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    text = re.sub(r"[¥￥$€£元,\s]|[A-Z]{3}", "", text)
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    value = Decimal(text)
    return -value if negative else value


CHECKS: list[tuple[str, object, object]] = []


def check(kind: str, raw: str, want) -> str:
    """Remember (raw, wanted clean value) for self_check; returns raw for chaining."""
    CHECKS.append((kind, raw, want))
    return raw


def self_check() -> None:
    cleaners = {"phone": clean_phone, "email": clean_email, "amount": clean_amount}
    for kind, raw, want in CHECKS:
        got = cleaners[kind](raw)
        if got != want:
            sys.exit(f"make_data.py: error: {kind} {raw!r} cleans to {got!r}, made from {want!r}")


# ----------------------------------------------------------------------------------------
# formatting helpers: the many ways exports write one value
# ----------------------------------------------------------------------------------------

def yuan(value: Decimal, thousands: bool = True) -> str:
    return f"{value:,.2f}" if thousands else f"{value:.2f}"


def fmt_phone(rng: random.Random, digits: str, styles: list[str]) -> str:
    style = rng.choice(styles)
    a, b, c = digits[:3], digits[3:7], digits[7:]
    text = {
        "plain": digits,
        "dashes": f"{a}-{b}-{c}",
        "spaces": f"{a} {b} {c}",
        "plus86_dashes": f"+86 {a}-{b}-{c}",
        "plus86": f"+86{digits}",
        "0086": f"0086 {digits}",
        "86": f"86{digits}",
        "86_space": f"86 {a} {b} {c}",
    }[style]
    return check("phone", text, digits)


def fmt_email(rng: random.Random, email: str, messy: float) -> str:
    text = email
    roll = rng.random()
    if roll < messy / 2:
        local, domain = email.split("@")
        text = local[:1].upper() + local[1:] + "@" + domain.upper()
    elif roll < messy:
        text = f" {email} " if rng.random() < 0.5 else f"{email} "
    return check("email", text, email)


def local_to_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


# ----------------------------------------------------------------------------------------
# generation
# ----------------------------------------------------------------------------------------

class Shop:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.catalog = [Product(f"SK{1001 + i}", f"{b} {p}", c, b, Decimal(price))
                        for i, (b, p, c, price) in enumerate(CATALOG_SPEC)]
        self.gift = Product(GIFT[0], GIFT[1], GIFT[2], GIFT[3], GIFT[4])
        self.used_phones: set[str] = set()
        self.used_emails: set[str] = set()
        self.used_ext: set[str] = set()
        self.rows: dict[str, list[Row]] = {s: [] for s in SOURCE_ORDER}
        self.day_weights = self._day_weights()

    # -- people --------------------------------------------------------------------------

    def new_phone(self) -> str:
        while True:
            digits = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if digits not in self.used_phones:
                self.used_phones.add(digits)
                return digits

    def new_email(self, sur: str, given: str) -> str:
        rng = self.rng
        while True:
            local = rng.choice([f"{given}.{sur}", f"{sur}{given}", f"{given}_{sur}",
                                f"{sur}.{given}"])
            local += str(rng.choice([rng.randrange(10, 99), rng.randrange(1975, 2005)]))
            email = f"{local}@{rng.choice(MAIL_DOMAINS)}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                return email

    def new_ext(self) -> str:
        while True:
            if self.rng.random() < 0.6:
                ext = f"tb_{self.rng.randrange(16**8):08x}"
            else:
                ext = f"jd_{self.rng.randrange(10**9):09d}"
            if ext not in self.used_ext:
                self.used_ext.add(ext)
                return ext

    def new_person(self, email: bool, phone: bool, ext: bool) -> Person:
        rng = self.rng
        female = rng.random() < 0.72  # a beauty retailer's customer base
        sur_h, sur_p = rng.choice(SURNAMES)
        giv_h, giv_p = rng.choice(GIVEN_F if female else GIVEN_M)
        return Person(
            name=sur_h + giv_h, gender="女" if female else "男",
            email=self.new_email(sur_p, giv_p) if email else None,
            phone=self.new_phone() if phone else None,
            ext=self.new_ext() if ext else None,
            pinyin=f"{giv_p}.{sur_p}",
            activity=min(6.0, rng.lognormvariate(0.0, 0.7)),
        )

    def build_people(self) -> None:
        rng = self.rng
        self.crm: list[Person] = []
        for i in range(1, 120):
            has_email = rng.random() < 0.85
            has_phone = rng.random() < 0.85 or not has_email
            person = self.new_person(has_email, has_phone, rng.random() < 0.38)
            person.crm_id = f"C{i:04d}"
            self.crm.append(person)
        # Prospects: in the CRM, never buy. C0057 is also the row with a bad birth date.
        prospect_ids = {"C0057"} | {f"C{i:04d}" for i in rng.sample(range(1, 120), 19)}
        self.prospects = [p for p in self.crm if p.crm_id in prospect_ids]
        self.bad_birthday = next(p for p in self.crm if p.crm_id == "C0057")
        buyers = [p for p in self.crm if p.crm_id not in prospect_ids]
        # Make sure the three-channel story is there: some contacts carry all three keys.
        for person in buyers[:12]:
            person.email = person.email or self.new_email(*person.pinyin.split(".")[::-1])
            person.phone = person.phone or self.new_phone()
            person.ext = person.ext or self.new_ext()
        self.web_only = [self.new_person(True, rng.random() < 0.4, False) for _ in range(22)]
        self.store_only = [self.new_person(False, True, False) for _ in range(14)]
        self.mp_only = [self.new_person(False, False, True) for _ in range(8)]

        core = buyers[:12]
        self.web_buyers = [p for p in buyers if p.email and (rng.random() < 0.7 or p in core)]
        self.web_buyers += self.web_only
        self.store_buyers = [p for p in buyers if p.phone and (rng.random() < 0.6 or p in core)]
        self.store_buyers += self.store_only
        self.mp_buyers = [p for p in buyers if p.ext and (rng.random() < 0.85 or p in core)]
        self.mp_buyers += self.mp_only
        # A CRM buyer who ended up in no channel buys on the web (or store) after all.
        for person in buyers:
            if person not in self.web_buyers + self.store_buyers + self.mp_buyers:
                (self.web_buyers if person.email else self.store_buyers).append(person)

    # -- time ----------------------------------------------------------------------------

    @staticmethod
    def _day_weights() -> list[tuple[date, float]]:
        weights = []
        day = date(2024, 1, 1)
        while day.year == 2024:
            w = 1.0
            if date(2024, 2, 9) <= day <= date(2024, 2, 17):    # Spring Festival: quiet
                w = 0.4
            if date(2024, 6, 1) <= day <= date(2024, 6, 18):    # 618 sales
                w = 2.5
            if date(2024, 10, 31) <= day <= date(2024, 11, 11):  # Double 11
                w = 3.5
            if day.month == 12 and day.day >= 20:               # holiday gifting
                w = 1.8
            weights.append((day, w))
            day += timedelta(days=1)
        return weights

    def when(self, first_hour: int, last_hour: int) -> datetime:
        days, weights = zip(*self.day_weights)
        day = self.rng.choices(days, weights)[0]
        return datetime(day.year, day.month, day.day,
                        self.rng.randint(first_hour, last_hour), self.rng.randrange(60))

    def n_orders(self, person: Person, base: float) -> int:
        # A geometric-ish count scaled by the person's activity: a few heavy buyers.
        lam = base * person.activity
        count = 1
        while self.rng.random() < lam / (lam + 1.0) and count < 25:
            count += 1
        return count

    def products(self, k: int) -> list[Product]:
        return self.rng.sample(self.catalog, k)

    # -- web -----------------------------------------------------------------------------

    def web_contact(self, person: Person, show_phone: bool) -> tuple[str, str, dict]:
        """How one web order names its buyer: (e-mail text, phone text, clean keys)."""
        email_text = fmt_email(self.rng, person.email, 0.12) if person.email else ""
        phone_text = ""
        if show_phone and person.phone:
            phone_text = fmt_phone(self.rng, person.phone, ["dashes", "plus86", "plain"])
        keys = {"email": person.email if email_text else None,
                "phone": person.phone if phone_text else None}
        return email_text, phone_text, keys

    def web_row(self, contact: tuple, order_id: str, when: datetime, product: Product,
                qty: int, discount: Decimal, price_style: str) -> Row:
        rng = self.rng
        email_text, phone_text, keys = contact
        price_text = {"yen": f"¥{yuan(product.price)}", "plain": yuan(product.price, False),
                      "code": f"CNY {yuan(product.price)}"}[price_style]
        check("amount", price_text, product.price)
        if discount:
            discount_text = check("amount", f"¥{yuan(discount)}", discount)
        else:
            discount_text = rng.choice(["", "", "0.00"])
        raw = {
            "Order ID": order_id,
            "Order Date": when.strftime("%m/%d/%Y %H:%M"),
            "Customer Email": email_text,
            "Customer Phone": phone_text,
            "SKU": product.sku,
            "Product": product.name,
            "Category": product.category,
            "Brand": product.brand,
            "Qty": str(qty),
            "Unit Price": price_text,
            "Discount": discount_text,
            "Payment": rng.choice(PAYMENTS),
        }
        amount = qty * product.price - discount
        return Row("web", when, raw, dict(keys), order_id, amount, is_return=qty < 0)

    def price_style(self) -> str:
        return self.rng.choices(["yen", "plain", "code"], [85, 10, 5])[0]

    def gen_web(self) -> None:
        rng = self.rng
        orders = []
        for person in self.web_buyers:
            show_phone = rng.random() < 0.3
            for _ in range(self.n_orders(person, 2.8)):
                orders.append((self.when(0, 23), person, show_phone))
        orders.sort(key=lambda o: (o[0], o[1].pinyin))
        rows = []
        for seq, (when, person, show_phone) in enumerate(orders, start=1):
            order_id = f"WEB-24{seq:05d}"
            contact = self.web_contact(person, show_phone)
            style = self.price_style()
            lines = self.products(rng.choices([1, 2, 3], [55, 32, 13])[0])
            for product in lines:
                qty = rng.choices([1, 2, 3], [72, 21, 7])[0]
                discount = Decimal(0)
                if rng.random() < 0.25:
                    discount = (qty * product.price * Decimal(rng.choice([5, 10, 15, 20])) / 100
                                ).quantize(Decimal(1))
                rows.append(self.web_row(contact, order_id, when, product, qty, discount, style))
            # About 4% of orders send one unit of their first line back 3..20 days later,
            # booked as a Qty -1 line of the same order.
            back = when + timedelta(days=rng.randint(3, 20), hours=rng.randint(1, 9))
            if rng.random() < 0.04 and back < datetime(2024, 12, 31, 22, 0):
                rows.append(self.web_row(contact, order_id, back, lines[0], -1, Decimal(0), style))
        self.rows["web"] = rows
        self.plant_web()

    def plant_web(self) -> None:
        rng = self.rng
        crm_web = [p for p in self.web_buyers if p.crm_id]
        seq = iter(range(90001, 90100))

        def planted(when, person, reason, note, **changes) -> Row:
            product = rng.choice(self.catalog)
            row = self.web_row(self.web_contact(person, False), f"WEB-24{next(seq)}", when,
                               product, 1, Decimal(0), "yen")
            row.raw.update(changes)
            row.reason, row.note = reason, note
            self.rows["web"].append(row)
            return row

        planted(datetime(2024, 3, 9, 15, 2), rng.choice(crm_web), "missing_customer",
                "no e-mail and no phone", **{"Customer Email": "", "Customer Phone": ""})
        planted(datetime(2024, 4, 21, 11, 37), rng.choice(crm_web), "missing_order_id",
                "empty Order ID", **{"Order ID": ""})
        planted(datetime(2024, 1, 31, 20, 15), rng.choice(crm_web), "bad_timestamp",
                'Order Date "31/01/2024 20:15" (day and month swapped)',
                **{"Order Date": "31/01/2024 20:15"})
        planted(datetime(2024, 5, 5, 9, 48), rng.choice(crm_web), "bad_quantity",
                'Qty "two" and an empty Unit Price: bad_quantity is reported first',
                Qty="two", **{"Unit Price": ""})
        planted(datetime(2024, 8, 14, 22, 6), rng.choice(crm_web), "missing_amount",
                "empty Unit Price (no amount column to fall back on)", **{"Unit Price": ""})
        planted(datetime(2024, 9, 2, 13, 30), rng.choice(crm_web), "bad_amount",
                'Unit Price "abc"', **{"Unit Price": "abc"})
        planted(datetime(2024, 10, 8, 16, 41), rng.choice(crm_web), "bad_amount",
                'Discount "1e309" (overflows to infinity)', Discount="1e309")

        # Kept: an e-mail without "@" is absent, the phone carries the identity.
        crm_phone = next(p for p in crm_web if p.phone)
        bad_email = crm_phone.email.replace("@", "#")
        contact = (bad_email, fmt_phone(rng, crm_phone.phone, ["plus86_dashes"]),
                   {"email": None, "phone": crm_phone.phone})
        row = self.web_row(contact, "WEB-2490090", datetime(2024, 7, 19, 10, 12),
                           self.catalog[14], 2, Decimal(0), "yen")
        row.note = f'e-mail "{bad_email}" has no "@"; the phone matches CRM {crm_phone.crm_id}'
        self.rows["web"].append(row)

        walk_in = self.store_only[0]
        contact = ("n/a", fmt_phone(rng, walk_in.phone, ["plus86_dashes"]),
                   {"email": None, "phone": walk_in.phone})
        row = self.web_row(contact, "WEB-2490091", datetime(2024, 11, 26, 21, 3),
                           self.catalog[3], 1, Decimal(0), "yen")
        row.note = ('e-mail "n/a"; the phone is in no CRM record, so the id is '
                    f"phone:{walk_in.phone}, the same as this person's store receipts")
        self.rows["web"].append(row)

    # -- store ---------------------------------------------------------------------------

    def member_phone(self, person: Person | None) -> tuple[str, str | None]:
        """How one receipt records the member: (会员手机 text, clean digits)."""
        if person is None:
            return "", None
        text = fmt_phone(self.rng, person.phone, ["plain", "plain", "plain", "plus86_dashes",
                                                  "0086", "spaces", "86_space", "plus86"])
        return text, person.phone

    def store_row(self, member: tuple, receipt: str, store: tuple, when: datetime,
                  product: Product, qty: int, amount: Decimal, amount_style: str) -> Row:
        magnitude = abs(amount)
        text = {
            "plain": yuan(magnitude),
            "yen": f"￥{yuan(magnitude)}",
            "yuan": f"{yuan(magnitude, False)}元",
            "rmb": f"RMB {yuan(magnitude, False)}",
            "paren": f"({yuan(magnitude)})",
            "minus": f"-{yuan(magnitude)}",
        }[amount_style]
        check("amount", text, amount)
        raw = {
            "小票号": receipt,
            "门店": store[1],
            "会员手机": member[0],
            "交易时间": when.strftime("%Y/%m/%d %H:%M"),
            "商品编码": product.sku,
            "商品名称": product.name,
            "品类": product.category,
            "品牌": product.brand,
            "数量": str(qty),
            "单价": yuan(product.price, False),
            "金额": text,
            "收银员": self.rng.choice(CASHIERS),
        }
        return Row("store", when, raw, {"phone": member[1]}, receipt, amount,
                   is_return=amount < 0 or qty < 0)

    def amount_style(self) -> str:
        # The till software's version decides how a receipt writes its amounts.
        return self.rng.choices(["plain", "yen", "yuan", "rmb"], [78, 9, 8, 5])[0]

    def gen_store(self) -> None:
        rng = self.rng
        visits = []
        for person in self.store_buyers:
            home = rng.choice(STORES)
            for _ in range(self.n_orders(person, 2.2)):
                store = home if rng.random() < 0.85 else rng.choice(STORES)
                visits.append((self.when(10, 21), person, store))
        visits.sort(key=lambda v: (v[0], v[2][0], v[1].pinyin))
        rows = []
        per_day: dict[tuple, int] = {}

        def receipt_no(store, when) -> str:
            key = (store[0], when.date())
            per_day[key] = per_day.get(key, 0) + 1
            return f"{store[0]}{when:%y%m%d}{per_day[key]:04d}"

        returns = []
        for when, person, store in visits:
            receipt = receipt_no(store, when)
            member, style = self.member_phone(person), self.amount_style()
            for product in self.products(rng.choices([1, 2, 3, 4], [40, 33, 18, 9])[0]):
                qty = rng.choices([1, 2, 3], [75, 20, 5])[0]
                promo = Decimal(rng.choice([10, 20, 30])) if rng.random() < 0.2 else Decimal(0)
                amount = max(Decimal(0), qty * product.price - promo)
                rows.append(self.store_row(member, receipt, store, when, product, qty, amount,
                                           style))
                back = when + timedelta(days=rng.randint(1, 14), minutes=rng.randint(0, 300))
                if rng.random() < 0.03 and back.hour < 22 and back < datetime(2024, 12, 31, 21):
                    returns.append((back, person, store, product))
        # Returns get their own receipt, so that receipt has no purchase line.
        for back, person, store, product in returns:
            rows.append(self.store_row(self.member_phone(person), receipt_no(store, back), store,
                                       back, product, -1, -product.price,
                                       rng.choice(["paren", "minus"])))
        self.rows["store"] = rows
        self.plant_store()

    def plant_store(self) -> None:
        rng = self.rng
        members = [p for p in self.store_buyers if p.crm_id]
        store = STORES[0]

        def planted(when, person, reason, note, **changes) -> Row:
            product = rng.choice(self.catalog)
            receipt = f"{store[0]}{when:%y%m%d}9{rng.randrange(1000):03d}"
            row = self.store_row(self.member_phone(person), receipt, store, when, product, 1,
                                 product.price, "plain")
            row.raw.update(changes)
            row.reason, row.note = reason, note
            self.rows["store"].append(row)
            return row

        planted(datetime(2024, 1, 20, 14, 22), None, "missing_customer",
                "walk-in sale: 会员手机 empty")
        planted(datetime(2024, 6, 15, 19, 5), None, "missing_customer",
                '会员手机 empty and 金额 "—": missing_customer is reported first', 金额="—")
        planted(datetime(2024, 8, 30, 12, 48), rng.choice(members), "bad_amount", '金额 "—"',
                金额="—")
        planted(datetime(2024, 3, 3, 10, 1), rng.choice(members), "timestamp_out_of_range",
                '交易时间 "1985/01/01 00:00" (till clock reset)', 交易时间="1985/01/01 00:00")
        planted(datetime(2024, 10, 2, 17, 26), rng.choice(members), "missing_order_id",
                "empty 小票号", 小票号="")

        # Kept: a receipt with a single free gift line is a purchase of 0.00.
        person = rng.choice(members)
        gift = self.store_row(self.member_phone(person), f"{store[0]}2405208001", store,
                              datetime(2024, 5, 20, 15, 40), self.gift, 1, Decimal(0), "plain")
        gift.note = f'金额 "0.00": a points-redemption gift, kept as a purchase ({person.crm_id})'
        self.rows["store"].append(gift)

        # Kept once: the same line exported twice.
        candidates = [r for r in self.rows["store"] if r.reason is None and not r.is_return
                      and r.when.month == 9]
        dup = rng.choice(candidates)
        dup.copies = 2
        dup.note = "the previous line exported twice: kept once, counted as a duplicate"

    # -- marketplace ---------------------------------------------------------------------

    def mp_row(self, person: Person | None, order_no: str | None, when: datetime,
               product: Product, qty: int, cents: int | None, shop: str,
               millis: int | None = None) -> Row:
        utc = local_to_utc(when)
        if millis is None:
            millis = int(utc.timestamp()) * 1000 + self.rng.randrange(1000)
        raw = {
            "buyer_id": person.ext if person else None,
            "order_no": order_no,
            "paid_at": millis,
            "sku": product.sku,
            "category": product.category,
            "qty": qty,
            "amount_cents": cents,
            "shop": shop,
        }
        amount = None if cents is None else (Decimal(cents) * CENT)
        keys = {"ext": person.ext if person else None}
        return Row("marketplace", when, raw, keys, order_no, amount,
                   is_return=(cents or 0) < 0 or qty < 0)

    def gen_marketplace(self) -> None:
        rng = self.rng
        orders = []
        for person in self.mp_buyers:
            for _ in range(self.n_orders(person, 3.0)):
                when = self.when(0, 23).replace(second=rng.randrange(60))
                orders.append((when, person))
        orders.sort(key=lambda o: (o[0], o[1].ext))
        rows = []
        for when, person in orders:
            order_no = f"{rng.randrange(10**15, 10**16)}"
            shop = rng.choice(MP_SHOPS)
            lines = self.products(rng.choices([1, 2], [70, 30])[0])
            coupon = rng.choice([0, 0, 0, 500, 1000, 2000])
            millis = int(local_to_utc(when).timestamp()) * 1000 + rng.randrange(1000)
            for i, product in enumerate(lines):
                qty = rng.choices([1, 2, 3], [70, 22, 8])[0]
                cents = int(qty * product.price * 100) - (coupon if i == 0 else 0)
                rows.append(self.mp_row(person, order_no, when, product, qty, max(cents, 0), shop,
                                        millis))
            back = when + timedelta(days=rng.randint(2, 15), minutes=rng.randint(0, 600))
            if rng.random() < 0.05 and back < datetime(2024, 12, 31, 20):
                product = lines[0]
                rows.append(self.mp_row(person, order_no, back, product, -1,
                                        -int(product.price * 100), shop))
        self.rows["marketplace"] = rows
        self.plant_marketplace()

    def plant_marketplace(self) -> None:
        rng = self.rng
        crm_mp = [p for p in self.mp_buyers if p.crm_id]
        product = self.catalog[12]
        row = self.mp_row(None, f"{rng.randrange(10**15, 10**16)}", datetime(2024, 4, 2, 9, 17),
                          product, 1, int(product.price * 100), MP_SHOPS[0])
        row.reason, row.note = "missing_customer", "buyer_id null"
        self.rows["marketplace"].append(row)

        product = self.catalog[20]
        future = datetime(2031, 7, 1, 12, 0, tzinfo=timezone.utc)
        row = self.mp_row(rng.choice(crm_mp), f"{rng.randrange(10**15, 10**16)}",
                          datetime(2024, 7, 1, 20, 0), product, 1, int(product.price * 100),
                          MP_SHOPS[1], millis=int(future.timestamp()) * 1000)
        row.reason = "timestamp_out_of_range"
        row.note = f"paid_at {row.raw['paid_at']} is 2031-07-01T12:00:00Z, after the as-of date"
        self.rows["marketplace"].append(row)

        product = self.catalog[5]
        row = self.mp_row(rng.choice(crm_mp), f"{rng.randrange(10**15, 10**16)}",
                          datetime(2024, 11, 11, 0, 3), product, 1, None, MP_SHOPS[0])
        row.reason = "missing_amount"
        row.note = "amount_cents null (and no unit price column to compute one)"
        self.rows["marketplace"].append(row)

    # -- app events ----------------------------------------------------------------------

    def event_row(self, person: Person, when: datetime, event: str, value) -> Row:
        rng = self.rng
        ts = local_to_utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")
        raw = {
            "user_email": fmt_email(rng, person.email, 0.2),
            "event": event,
            "ts": ts,
            "value": value,
            "session": f"s-{rng.randrange(16**10):010x}",
            "platform": rng.choice(["ios", "android"]),
        }
        return Row("app", when, raw, {"email": person.email})

    def gen_events(self) -> None:
        rng = self.rng
        users = [p for p in self.web_buyers if p.email]
        users += [p for p in self.prospects if p.email and p is not self.bad_birthday]
        rows = []
        for person in users:
            for _ in range(rng.choices([0, 1, 2, 3, 4, 6, 9], [15, 20, 20, 15, 12, 10, 8])[0]):
                when = self.when(0, 23).replace(second=rng.randrange(60))
                event = rng.choices(["view", "add_to_cart", "share", "support_chat"],
                                    [60, 25, 10, 5])[0]
                value = float(rng.choice(self.catalog).price) if event == "add_to_cart" else None
                rows.append(self.event_row(person, when, event, value))
        self.rows["app"] = rows

        row = self.event_row(rng.choice(users), datetime(2024, 2, 14, 21, 30), "view", None)
        row.raw["user_email"] = "guest"
        row.reason, row.note = "missing_customer", 'user_email "guest" (no "@": absent)'
        rows.append(row)
        row = self.event_row(rng.choice(users), datetime(2024, 6, 18, 0, 1), "add_to_cart", 349.0)
        row.raw["ts"] = "2024-13-01T10:00:00Z"
        row.reason, row.note = "bad_timestamp", 'ts "2024-13-01T10:00:00Z" (month 13)'
        rows.append(row)
        dup = rng.choice([r for r in rows if r.reason is None and r.when.month == 11])
        dup.copies = 2
        dup.note = "the previous event sent twice: kept once, counted as a duplicate"

    # -- CRM -----------------------------------------------------------------------------

    def gen_crm(self) -> None:
        rng = self.rng
        rows = []
        for person in self.crm:
            city, province = rng.choice(CITIES)
            birthday = ""
            if rng.random() < 0.85:
                birthday = date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28)
                                ).isoformat()
            signup = date(2019, 1, 1) + timedelta(days=rng.randrange(365 * 5 + 200))
            mobile = ""
            if person.phone:
                mobile = fmt_phone(rng, person.phone, ["plain", "plain", "plain", "dashes",
                                                       "plus86_dashes", "86"])
            raw = {
                "customer_id": person.crm_id,
                "name": person.name,
                "gender": person.gender,
                "birthday": birthday,
                "mobile": mobile,
                "email": fmt_email(rng, person.email, 0.4) if person.email else "",
                "mp_buyer_id": person.ext or "",
                "city": city,
                "province": province,
                "signup_date": signup.isoformat(),
                "member_level": rng.choice(LEVELS),
                "opt_in_sms": rng.choice(["Y", "N"]),
            }
            keys = {"email": person.email, "phone": person.phone, "ext": person.ext}
            row = Row("crm", datetime(signup.year, signup.month, signup.day), raw, keys)
            if person is self.bad_birthday:
                row.raw["birthday"] = "1988-02-30"
                row.reason = "bad_date"
                row.note = (f'{person.crm_id} birthday "1988-02-30"; a prospect, '
                            "so no order depends on it")
            rows.append(row)
        blank = {k: "" for k in rows[0].raw}
        blank.update(name="测试账号", gender="", signup_date="2023-05-06", member_level="普通",
                     opt_in_sms="N", city="上海", province="上海")
        row = Row("crm", datetime(2023, 5, 6), blank, {}, reason="missing_customer",
                  note="a test account: no customer_id, e-mail, mobile or buyer id")
        rows.insert(71, row)
        self.rows["crm"] = rows


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------

def assign_files(shop: Shop) -> None:
    for source, rows in shop.rows.items():
        for row in rows:
            if source == "web":
                row.files = []
                if row.when < H1_UNTIL:
                    row.files.append(SOURCE_FILES["web"][0])
                if row.when >= H2_FROM:
                    row.files.append(SOURCE_FILES["web"][1])
                if row.reason and len(row.files) > 1:
                    sys.exit("make_data.py: error: a planted web row sits in the H1/H2 overlap")
            else:
                row.files = list(SOURCE_FILES[source])


def sort_key(row: Row):
    return (row.when, row.order_id or "", json.dumps(row.raw, ensure_ascii=False, default=str))


def write_csv(path: Path, rows: list[Row], encoding: str, newline: str) -> None:
    header = list(rows[0].raw)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    line = 1
    for row in rows:
        for _ in range(row.copies):
            writer.writerow([row.raw[c] for c in header])
            line += 1
            row.lines.append((path.name, line))
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_all(shop: Shop) -> None:
    assign_files(shop)
    # CRM keeps its own (id) order; the planted blank row sits where it was inserted.
    write_csv(HERE / "crm_contacts.csv", shop.rows["crm"], "utf-8", "\n")
    web = sorted(shop.rows["web"], key=sort_key)
    for name, encoding in zip(SOURCE_FILES["web"], ["utf-8-sig", "utf-8"]):
        write_csv(HERE / name, [r for r in web if name in r.files], encoding, "\n")
    write_csv(HERE / "store_pos_2024.csv", sorted(shop.rows["store"], key=sort_key), "gbk", "\r\n")

    mp = sorted(shop.rows["marketplace"], key=sort_key)
    columns = list(mp[0].raw)
    types = {"buyer_id": pa.string(), "order_no": pa.string(), "paid_at": pa.int64(),
             "sku": pa.string(), "category": pa.string(), "qty": pa.int32(),
             "amount_cents": pa.int64(), "shop": pa.string()}
    table = pa.table({c: pa.array([r.raw[c] for r in mp], type=types[c]) for c in columns})
    pq.write_table(table, HERE / "marketplace_orders.parquet", compression="zstd")
    for i, row in enumerate(mp, start=1):
        row.lines.append(("marketplace_orders.parquet", i))

    events = sorted(shop.rows["app"], key=sort_key)
    out = []
    for row in events:
        for _ in range(row.copies):
            out.append(json.dumps(row.raw, ensure_ascii=False))
            row.lines.append(("app_events.ndjson", len(out)))
    (HERE / "app_events.ndjson").write_text("\n".join(out) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------
# ground truth
# ----------------------------------------------------------------------------------------

def customer_id(keys: dict, index: dict) -> str | None:
    """The identity rule: CRM match by e-mail, else phone, else external id; else a key id."""
    for kind in ("email", "phone", "ext"):
        value = keys.get(kind)
        if value and value in index[kind]:
            return index[kind][value]
    for kind in ("email", "phone", "ext"):
        if keys.get(kind):
            return f"{kind}:{keys[kind]}"
    return None


def expected(shop: Shop) -> dict:
    index: dict[str, dict[str, str]] = {"email": {}, "phone": {}, "ext": {}}
    for row in shop.rows["crm"]:
        if row.reason is None:
            for kind, value in row.keys.items():
                if value:
                    if value in index[kind]:
                        sys.exit(f"make_data.py: error: {kind} {value} is on two CRM contacts")
                    index[kind][value] = row.raw["customer_id"]

    sources = []
    for source in SOURCE_ORDER:
        rows = shop.rows[source]
        read = sum(len(r.files) * r.copies for r in rows)
        kept = sum(1 for r in rows if r.reason is None)
        by_reason: dict[str, int] = {}
        for r in rows:
            if r.reason:
                by_reason[r.reason] = by_reason.get(r.reason, 0) + 1
            if r.reason is None and customer_id(r.keys, index) is None:
                sys.exit(f"make_data.py: error: kept {source} row without a customer: {r.raw}")
        rejected = sum(by_reason.values())
        duplicates = read - kept - rejected
        # Guard against accidental duplicates: only the planted copies may repeat.
        seen: dict[tuple, int] = {}
        for r in rows:
            key = tuple(str(r.raw[c]) for c in MAPPED[source])
            seen[key] = seen.get(key, 0) + len(r.files) * r.copies
        if sum(n - 1 for n in seen.values()) != duplicates:
            sys.exit(f"make_data.py: error: {source} has unplanned duplicate rows")
        sources.append({
            "name": source, "kind": SOURCE_KIND[source], "files": len(SOURCE_FILES[source]),
            "read": read, "kept": kept, "rejected": rejected, "duplicates": duplicates,
            "rejected_by_reason": dict(sorted(by_reason.items())),
        })

    customers: dict[str, dict] = {}
    lines = returns = 0
    for source in ("web", "store", "marketplace"):
        for row in shop.rows[source]:
            if row.reason is not None:
                continue
            cid = customer_id(row.keys, index)
            c = customers.setdefault(cid, {"net": Decimal(0), "orders": set(), "channels": set(),
                                           "first": None, "last": None})
            c["net"] += row.amount
            c["channels"].add(source)
            lines += 1
            if row.is_return:
                returns += 1
            else:
                c["orders"].add(row.order_id)
                day = row.when.date().isoformat()
                c["first"] = min(c["first"] or day, day)
                c["last"] = max(c["last"] or day, day)

    per_customer = {}
    for cid in sorted(customers):
        c = customers[cid]
        per_customer[cid] = {
            "net_amount": float(c["net"].quantize(CENT)),
            "orders": len(c["orders"]),
            "channels": sorted(c["channels"]),
            "first_purchase": c["first"],
            "last_purchase": c["last"],
        }
    kinds = {"crm": 0, "email": 0, "phone": 0, "ext": 0}
    for cid in per_customer:
        kinds[cid.split(":")[0] if ":" in cid else "crm"] += 1
    return {
        "about": "ground truth for `custseg ingest --config custseg.toml` with --as-of "
                 f"{AS_OF}, written by make_data.py (seed {SEED}) from its own records",
        "as_of": AS_OF,
        "sources": sources,
        "orders": {
            "lines_kept": lines,
            "return_lines": returns,
            "customers": len(per_customer),
            "customers_by_id_kind": kinds,
            "multi_channel_customers": sum(1 for c in per_customer.values()
                                           if len(c["channels"]) > 1),
            "purchase_orders": sum(c["orders"] for c in per_customer.values()),
            "net_amount": float(sum(customers[c]["net"] for c in customers).quantize(CENT)),
        },
        "customers": per_customer,
    }


# ----------------------------------------------------------------------------------------
# README table
# ----------------------------------------------------------------------------------------

def planted_table(shop: Shop) -> str:
    out = ["| file | line | what is wrong | expected |", "| --- | --- | --- | --- |"]
    entries = []
    for source in SOURCE_ORDER:
        for row in shop.rows[source]:
            if not row.note:
                continue
            file, line = row.lines[-1]
            where = f"row {line}" if file.endswith(".parquet") else str(line)
            verdict = f"rejected: `{row.reason}`" if row.reason else "kept"
            if row.copies > 1:
                verdict = "duplicate"
            entries.append((SOURCE_ORDER.index(source), file, line, where, row.note, verdict))
    web_dups = sum(1 for r in shop.rows["web"] if len(r.files) > 1)
    for _, file, _, where, note, verdict in sorted(entries):
        out.append(f"| {file} | {where} | {note} | {verdict} |")
    out.append(f"| web_orders_2024H2.csv | first {web_dups} data lines | the same lines as the "
               "end of H1 (2024-06-28..07-03 was exported twice) | duplicates |")
    ret = {s: sum(1 for r in shop.rows[s] if r.is_return) for s in ("web", "store", "marketplace")}
    out.append(f"| web / store / marketplace | various | returns: {ret['web']} web lines with "
               f"Qty -1, {ret['store']} store lines as \"(89.00)\" or \"-89.00\", "
               f"{ret['marketplace']} marketplace lines with qty -1 and negative cents | "
               "kept, `is_return` |")
    return "\n".join(out)


def counts_table(truth: dict) -> str:
    out = ["| source | kind | files | read | kept | rejected | duplicates | rejected by reason |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in truth["sources"]:
        reasons = ", ".join(f"{k} {v}" for k, v in s["rejected_by_reason"].items())
        out.append(f"| {s['name']} | {s['kind']} | {s['files']} | {s['read']} | {s['kept']} | "
                   f"{s['rejected']} | {s['duplicates']} | {reasons} |")
    o = truth["orders"]
    k = o["customers_by_id_kind"]
    out.append("")
    out.append(f"Kept order lines: {o['lines_kept']} ({o['return_lines']} returns), "
               f"{o['purchase_orders']} purchase orders, net {o['net_amount']:,.2f} CNY, from "
               f"{o['customers']} customers: {k['crm']} CRM ids, {k['email']} `email:`, "
               f"{k['phone']} `phone:` and {k['ext']} `ext:` ids; "
               f"{o['multi_channel_customers']} of them buy in more than one channel.")
    return "\n".join(out)


def update_readme(marker: str, table: str) -> None:
    """Rewrite the text between `<!-- marker:start -->` and `<!-- marker:end -->`."""
    path = HERE / "README.md"
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = path.read_text(encoding="utf-8")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    path.write_text(f"{before}{start}\n{table}\n{end}{after}", encoding="utf-8")


def main() -> None:
    shop = Shop(SEED)
    shop.build_people()
    shop.gen_crm()
    shop.gen_web()
    shop.gen_store()
    shop.gen_marketplace()
    shop.gen_events()
    self_check()
    write_all(shop)
    truth = expected(shop)
    (HERE / "expected.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    update_readme("counts", counts_table(truth))
    update_readme("planted", planted_table(shop))
    for s in truth["sources"]:
        print(f"{s['name']:<12} read {s['read']:>5}  kept {s['kept']:>5}  "
              f"rejected {s['rejected']:>3}  duplicates {s['duplicates']:>3}", file=sys.stderr)
    o = truth["orders"]
    print(f"orders: {o['lines_kept']} kept lines, {o['customers']} customers "
          f"{o['customers_by_id_kind']}, {o['multi_channel_customers']} in several channels",
          file=sys.stderr)


if __name__ == "__main__":
    main()
