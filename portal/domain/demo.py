"""Demo data for development: a catalog, three customers, six months of history.

``seed_demo`` is idempotent and works like an upsert, part by part: every row is
found by a stable key (tariff and service codes, customer contract numbers,
line numbers, home contract numbers, ledger idempotency keys, the days already
holding usage) and only what is missing is added.  A second run adds nothing;
a partly seeded database is completed, not duplicated.  Rows that exist are
left as they are (staff may have edited them).

The history is deterministic: each day of usage comes from its own
``random.Random`` seeded with the line and the date, so a rerun regenerates the
same records and the same monthly charges.  Every account's balance is set to
the sum of its ledger entries at the end.

Plain functions over a Session; the helpers only flush, ``seed_demo`` commits once.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from portal.domain import statement
from portal.domain.passwords import hash_secret
from portal.domain.receipts import codes as operation_codes
from portal.models import (
    Account,
    Allowance,
    AntivirusLicence,
    AutoPayment,
    BonusAccount,
    BonusEntry,
    CardToken,
    Customer,
    HomeContract,
    LedgerEntry,
    Line,
    Login,
    LoginAccount,
    Melody,
    PolicyDocument,
    Reward,
    Service,
    ServiceNotice,
    ServiceNoticeUpdate,
    Subscription,
    Tariff,
    TvChannel,
    UsageRecord,
    VoicemailBox,
    VoiceMessage,
    Voucher,
    utcnow,
)
from portal.payment_gateway import dev as dev_provider

KEY_PREFIX = "demo:"
USAGE_DAYS = 183           # about six months of usage per account
BATCH = 2000               # usage rows per INSERT
LOCAL_OFFSET = timedelta(hours=3)  # Moscow and Saint Petersburg: UTC+3 all year
SUMMARY_ORDER = ("tariffs", "home tariff rules", "services", "service links", "English names", "tv channels",
                 "channel links", "customers", "accounts", "lines", "home contracts", "subscriptions",
                 "antivirus licences",
                 "allowances", "bonus accounts", "ledger entries", "usage records", "vouchers", "rewards",
                 "voice messages", "melodies", "logins", "saved cards", "auto-payments", "bonus entries",
                 "agreements", "notices")

# ---- the catalog ---------------------------------------------------------------------------------------------

TARIFFS: list[dict] = [
    dict(code="smart-mini", name="Smart Mini", kind="mobile", monthly_fee=35000, switch_fee=5000, minutes=300,
         sms=100, mms=50, data_mb=5 * 1024,
         description="Самое нужное: 300 минут на любые номера России, 100 SMS, 50 MMS и 5 ГБ в месяц."),
    dict(code="smart", name="Smart", kind="mobile", monthly_fee=55000, switch_fee=5000, minutes=600, sms=300,
         mms=100, data_mb=20 * 1024,
         description="600 минут, 300 SMS, 100 MMS и 20 ГБ в месяц. "
                     "Неизрасходованные гигабайты переносятся на следующий месяц."),
    dict(code="smart-unlimited", name="Smart Unlimited", kind="mobile", monthly_fee=95000, switch_fee=0,
         minutes=1500, sms=1000, mms=300, data_mb=0, unlimited_data=True,
         description="Безлимитный мобильный интернет на полной скорости, 1500 минут, 1000 SMS и 300 MMS в месяц. "
                     "Раздача интернета: 10 ГБ в месяц."),
    dict(code="senior", name="Senior", kind="mobile", monthly_fee=25000, switch_fee=0, minutes=400, sms=100,
         mms=0, data_mb=2 * 1024,
         description="Для пенсионеров: 400 минут, 100 SMS и 2 ГБ в месяц; "
                     "звонки на городские номера расходуют минуты пакета."),
    dict(code="kids", name="Kids", kind="mobile", monthly_fee=19000, switch_fee=5000, minutes=200, sms=200,
         mms=50, data_mb=3 * 1024,
         description="Для детского телефона: 200 минут, 200 SMS, 3 ГБ; платный контент запрещён, "
                     "доступны родительский контроль и «Где мои близкие»."),
    dict(code="smart-2019", name="Smart (2019)", kind="mobile", monthly_fee=45000, switch_fee=15000, minutes=500,
         sms=500, mms=100, data_mb=10 * 1024, archived=True,
         description="Для новых абонентов закрыт; сохраняется у тех, кто на нём."),
    # Home: which connection types carry each tariff, when a switch takes effect (an upgrade at once, a
    # downgrade from the next billing period) and the fee while paused. HC-100200 (GPON) cannot take
    # «Домашний интернет 100» (FTTB / DOCSIS only): the switch page says why.
    dict(code="home-100", name="Домашний интернет 100", kind="home", region="Moscow", monthly_fee=50000, switch_fee=0,
         unlimited_data=True, speed_mbps=100, connection_types="fttb,docsis", change_effective="now",
         pause_monthly_fee=15000,
         description="Домашний интернет до 100 Мбит/с по оптике, безлимитный трафик, Wi-Fi-роутер в комплекте."),
    dict(code="home-500", name="Домашний интернет 500", kind="home", region="Moscow", monthly_fee=75000, switch_fee=0,
         unlimited_data=True, speed_mbps=500, connection_types="fttb,gpon", change_effective="next_period",
         pause_monthly_fee=19900,
         description="Домашний интернет до 500 Мбит/с по оптике, безлимитный трафик, "
                     "двухдиапазонный Wi-Fi-роутер в комплекте."),
    dict(code="home-500-tv", name="Домашний интернет 500 + ТВ", kind="home", region="Moscow", monthly_fee=99000,
         switch_fee=0, unlimited_data=True, speed_mbps=500, connection_types="fttb,gpon", change_effective="now",
         pause_monthly_fee=24900,
         description="Домашний интернет 500 Мбит/с и 20 ТВ-каналов на приставке (аренда включена), "
                     "пауза и перемотка за 3 дня."),
]

MOBILE_TARIFFS = ("smart-mini", "smart", "smart-unlimited", "senior", "kids", "smart-2019")
PACKAGE_TARIFFS = ("smart-mini", "smart", "senior", "kids", "smart-2019")
HOME_TARIFFS = ("home-100", "home-500", "home-500-tv")
HOME_RULES = ("connection_types", "change_effective", "pause_monthly_fee")

SERVICES: list[dict] = [
    # calls (forwarding and voicemail are the line's settings, not services: /settings)
    dict(code="who-called", name="Кто звонил", category="calls", kind="mobile", monthly_fee=1500,
         description="SMS о каждом пропущенном вызове, пока телефон был выключен или вне сети."),
    dict(code="hidden-number", name="Скрытый номер", category="calls", kind="mobile", connection_fee=3000,
         monthly_fee=3900, description="Те, кому вы звоните, не видят ваш номер."),
    # mobile internet
    dict(code="extra-5gb", name="Ещё 5 ГБ", category="internet", kind="mobile", connection_fee=20000,
         tariffs=PACKAGE_TARIFFS, description="5 ГБ сверх пакета до конца месяца, сразу."),
    dict(code="unlimited-messengers", name="Безлимитные мессенджеры", category="internet", kind="mobile",
         monthly_fee=9000, tariffs=PACKAGE_TARIFFS,
         description="Сообщения, фото и звонки в популярных мессенджерах не расходуют интернет-пакет."),
    dict(code="data-autoextend", name="Автопродление интернета", category="internet", kind="mobile",
         tariffs=PACKAGE_TARIFFS,
         description="Когда пакет закончится, добавится 1 ГБ за 150 ₽, до пяти раз в месяц."),
    # roaming
    dict(code="roaming-russia", name="По России", category="roaming", kind="mobile",
         description="Звонки, SMS и интернет по всей России по ценам домашнего региона."),
    dict(code="roaming-abroad", name="За границей", category="roaming", kind="mobile",
         description="500 МБ в день за границей за 390 ₽, только в дни, когда вы пользуетесь интернетом."),
    # entertainment
    dict(code="ringback-tone", name="Мелодия вместо гудка", category="entertainment", kind="mobile", daily_fee=100,
         description="Звонящие слышат выбранную вами мелодию вместо гудка; у каждой мелодии своя "
                     "цена в день."),
    dict(code="sms-horoscope", name="Гороскоп в SMS", category="entertainment", kind="mobile", monthly_fee=3900,
         description="Гороскоп на день каждое утро в SMS."),
    # security
    dict(code="blacklist", name="Чёрный список", category="security", kind="mobile", daily_fee=150,
         description="Звонки и SMS с номеров из вашего списка отклоняются; до 300 номеров."),
    dict(code="spam-filter", name="Защита от спама", category="security", kind="mobile", monthly_fee=3000,
         description="Звонки с номеров, замеченных в спаме и мошенничестве, отклоняются; отчёт раз в день в SMS."),
    dict(code="parental-control", name="Родительский контроль", category="security", kind="mobile", monthly_fee=4900,
         tariffs=("kids", "smart-mini", "smart"),
         description="Запрещает платный контент и сайты для взрослых на номере ребёнка; лимиты на звонки и интернет."),
    dict(code="family-locator", name="Где мои близкие", category="security", kind="mobile", monthly_fee=5900,
         description="Местоположение номеров вашей семьи на карте, с их согласия."),
    # number management
    dict(code="number-management", name="Управление номерами", category="number_management", kind="mobile",
         description="Несколько номеров в одном личном кабинете: баланс, платежи и услуги каждого."),
    # paid content subscriptions
    dict(code="music-stream", name="Музыка", category="subscription", kind="mobile", monthly_fee=19900,
         refund_unused=True,
         description="Миллионы треков без рекламы; прослушивание не расходует интернет-пакет."),
    dict(code="online-cinema", name="Онлайн-кинотеатр", category="subscription", kind="mobile", monthly_fee=29900,
         refund_unused=True,
         description="Фильмы и сериалы на телефоне, телевизоре и компьютере; до 5 профилей."),
    dict(code="audiobooks", name="Аудиокниги", category="subscription", kind="mobile", monthly_fee=14900,
         description="Аудиокниги и подкасты, можно слушать без интернета."),
    # TV packages
    dict(code="tv-basic", name="ТВ: Базовый, 20 каналов", category="tv", kind="tv", tariffs=("home-500-tv",),
         description="20 федеральных и развлекательных каналов; входит в тариф «интернет + ТВ»."),
    dict(code="tv-cinema", name="ТВ: Кино", category="tv", kind="tv", monthly_fee=29900, tariffs=("home-500-tv",),
         description="6 киноканалов без рекламы и видеотека на приставке."),
    dict(code="tv-kids", name="ТВ: Детский", category="tv", kind="tv", monthly_fee=9900, tariffs=("home-500-tv",),
         description="5 каналов мультфильмов и познавательных программ."),
    dict(code="tv-sport", name="ТВ: Спорт", category="tv", kind="tv", monthly_fee=24900, tariffs=("home-500-tv",),
         description="Футбол, хоккей и автоспорт в прямом эфире, 6 HD-каналов."),
    dict(code="tv-night", name="ТВ: Ночной 18+", category="tv", kind="tv", monthly_fee=19900, tariffs=("home-500-tv",),
         description="Каналы для взрослых; открываются на приставке по ПИН-коду родительского контроля."),
    # home extras
    dict(code="home-mailbox", name="Почтовый ящик", category="home", kind="home", tariffs=HOME_TARIFFS,
         description="Адрес электронной почты на домене оператора, 10 ГБ."),
    dict(code="home-antivirus", name="Антивирус на 3 устройства", category="home", kind="home", monthly_fee=12900,
         tariffs=HOME_TARIFFS, description="Защита трёх компьютеров или телефонов вашей семьи."),
    dict(code="home-static-ip", name="Статический IP-адрес", category="home", kind="home", connection_fee=20000,
         monthly_fee=15000, tariffs=HOME_TARIFFS,
         description="Постоянный внешний IP-адрес: для домашнего сервера, камер или удалённого доступа."),
]

# The catalog for readers of English: code → (name, description); None: the name reads the same in English.
ENGLISH: dict[str, tuple[str | None, str]] = {
    "smart-mini": (None, "The essentials: 300 minutes to any number in Russia, 100 SMS, 50 MMS and 5 GB a month."),
    "smart": (None, "600 minutes, 300 SMS, 100 MMS and 20 GB a month. Unused gigabytes carry over to the next "
                    "month."),
    "smart-unlimited": (None, "Unlimited mobile internet at full speed, 1,500 minutes, 1,000 SMS and 300 MMS a "
                              "month. Tethering: 10 GB a month."),
    "senior": (None, "For pensioners: 400 minutes, 100 SMS and 2 GB a month; calls to landlines use the package's "
                     "minutes."),
    "kids": (None, "For a child's phone: 200 minutes, 200 SMS, 3 GB; paid content is barred, parental control and "
                   "“Family locator” are available."),
    "smart-2019": (None, "Closed to new customers; kept by those on it."),
    "home-100": ("Home internet 100", "Home internet up to 100 Mbit/s over fibre, unlimited traffic, a Wi-Fi "
                                      "router included."),
    "home-500": ("Home internet 500", "Home internet up to 500 Mbit/s over fibre, unlimited traffic, a dual-band "
                                      "Wi-Fi router included."),
    "home-500-tv": ("Home internet 500 + TV", "Home internet at 500 Mbit/s and 20 TV channels on a set-top box "
                                              "(rental included), pause and rewind for 3 days."),
    "who-called": ("Who called", "An SMS about every missed call while the phone was off or out of reach."),
    "hidden-number": ("Hidden number", "The people you call do not see your number."),
    "extra-5gb": ("5 GB more", "5 GB beyond the package until the end of the month, at once."),
    "unlimited-messengers": ("Unlimited messengers", "Messages, photos and calls in popular messengers do not use "
                                                     "the internet package."),
    "data-autoextend": ("Internet auto-top-up", "When the package runs out, 1 GB is added for ₽150, up to five "
                                                "times a month."),
    "roaming-russia": ("Across Russia", "Calls, SMS and internet all over Russia at home-region prices."),
    "roaming-abroad": ("Abroad", "500 MB a day abroad for ₽390, only on the days you use the internet."),
    "ringback-tone": ("Ringback tone", "Callers hear the tune you chose instead of the ringing tone; each tune has "
                                      "its own daily price."),
    "sms-horoscope": ("Horoscope by SMS", "The day's horoscope by SMS every morning."),
    "blacklist": ("Blacklist", "Calls and SMS from the numbers on your list are rejected; up to 300 numbers."),
    "spam-filter": ("Spam protection", "Calls from numbers seen spamming or defrauding are rejected; a daily "
                                       "report by SMS."),
    "parental-control": ("Parental control", "Bars paid content and adult sites on a child's number; limits on "
                                             "calls and internet."),
    "family-locator": ("Family locator", "Where your family's numbers are on a map, with their consent."),
    "number-management": ("Number management", "Several numbers in one personal account: the balance, payments "
                                               "and services of each."),
    "music-stream": ("Music", "Millions of tracks without ads; listening does not use the internet package."),
    "online-cinema": ("Online cinema", "Films and series on your phone, TV and computer; up to 5 profiles."),
    "audiobooks": ("Audiobooks", "Audiobooks and podcasts, to listen to without the internet too."),
    "tv-basic": ("TV: Basic, 20 channels", "20 national and entertainment channels; part of the internet + TV "
                                           "tariff."),
    "tv-cinema": ("TV: Cinema", "6 film channels without ads and a video library on the set-top box."),
    "tv-kids": ("TV: Kids", "5 channels of cartoons and educational programmes."),
    "tv-sport": ("TV: Sport", "Football, hockey and motor sport live, 6 HD channels."),
    "tv-night": ("TV: Night 18+", "Adult channels; they open on the set-top box with the parental-control PIN."),
    "home-mailbox": ("Mailbox", "An e-mail address on the operator's domain, 10 GB."),
    "home-antivirus": ("Antivirus for 3 devices", "Protection for three of your family's computers or phones."),
    "home-static-ip": ("Static IP address", "A permanent public IP address: for a home server, cameras or remote "
                                            "access."),
}

# (number, name, adult, package codes): the channel lists of the TV packages (a sample of each).
CHANNELS: list[tuple[int, str, bool, tuple[str, ...]]] = [
    (1, "Первый канал", False, ("tv-basic",)), (2, "Россия 1", False, ("tv-basic",)),
    (3, "Матч ТВ", False, ("tv-basic", "tv-sport")), (4, "НТВ", False, ("tv-basic",)),
    (5, "Пятый канал", False, ("tv-basic",)), (6, "Россия К", False, ("tv-basic",)),
    (7, "Россия 24", False, ("tv-basic",)), (8, "Карусель", False, ("tv-basic", "tv-kids")),
    (9, "ОТР", False, ("tv-basic",)), (10, "ТВ Центр", False, ("tv-basic",)), (11, "РЕН ТВ", False, ("tv-basic",)),
    (12, "Спас", False, ("tv-basic",)), (13, "СТС", False, ("tv-basic",)), (14, "Домашний", False, ("tv-basic",)),
    (15, "ТВ-3", False, ("tv-basic",)), (16, "Пятница!", False, ("tv-basic",)), (17, "Звезда", False, ("tv-basic",)),
    (18, "Мир", False, ("tv-basic",)), (19, "ТНТ", False, ("tv-basic",)), (20, "Муз-ТВ", False, ("tv-basic",)),
    (101, "Кинохит", False, ("tv-cinema",)), (102, "Киносемья", False, ("tv-cinema",)),
    (103, "Кинокомедия", False, ("tv-cinema",)), (104, "Киносвидание", False, ("tv-cinema",)),
    (105, "Наше новое кино", False, ("tv-cinema",)), (106, "Родное кино", False, ("tv-cinema",)),
    (201, "Мультимузыка", False, ("tv-kids",)), (202, "Детский мир", False, ("tv-kids",)),
    (203, "Мульт", False, ("tv-kids",)), (204, "О!", False, ("tv-kids",)),
    (301, "Матч! Футбол 1", False, ("tv-sport",)), (302, "Матч! Футбол 2", False, ("tv-sport",)),
    (303, "КХЛ ТВ", False, ("tv-sport",)), (304, "Матч! Арена", False, ("tv-sport",)),
    (305, "Моторспорт ТВ", False, ("tv-sport",)),
    (901, "Ночной клуб 18+", True, ("tv-night",)), (902, "Русская ночь", True, ("tv-night",)),
    (903, "Шалун", True, ("tv-night",)),
]

# ---- the customers -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How a line is used: events a day, the mix of kinds, call lengths, data a day."""

    events: tuple[int, int]
    weights: dict[str, float]
    call_median_s: int
    data_mb_day: int
    contacts: int = 25
    landline_share: float = 0.05
    intl_share: float = 0.0
    service_sms_share: float = 0.3


@dataclass(frozen=True)
class Sub:
    service: str
    since_days: int                  # connected this many days ago
    ended_days: int | None = None    # disconnected this many days ago


@dataclass(frozen=True)
class AutoPay:
    """A card payment of ``amount`` whenever a charge would take the balance below ``threshold``."""

    threshold: int
    amount: int
    description: str
    card_last4: str = ""             # the saved card it charges (the owner's login keeps it)


@dataclass(frozen=True)
class MonthlyPay:
    """A payment around ``day`` of every month, a whole number of roubles in ``amounts``; some months skipped."""

    day: int
    amounts: tuple[int, int]
    description: str
    skip_every: int = 0              # skip the months whose number divides by this


@dataclass(frozen=True)
class PayUpTo:
    """One payment ``days_ago`` bringing the balance to at least ``target`` (rounded up to 100 ₽)."""

    days_ago: int
    target: int
    description: str


@dataclass(frozen=True)
class AccountSpec:
    key: str                          # the msisdn, or the home contract number
    kind: str
    tariff: str
    opening: int
    since_days: int
    status: str = "active"
    blocked_days: int | None = None   # usage stops this many days ago
    subscriptions: tuple[Sub, ...] = ()
    payments: tuple = ()
    extras: tuple[tuple[str, int, str, int, str], ...] = ()  # (name, days ago, kind, amount, description)
    profile: Profile | None = None
    address: str = ""
    connection_type: str = "gpon"
    contact_phone: str | None = None


@dataclass(frozen=True)
class CustomerSpec:
    contract_no: str
    name: str
    region: str
    since_days: int
    accounts: tuple[AccountSpec, ...] = field(default_factory=tuple)


ADULT = Profile(events=(12, 25), call_median_s=95, data_mb_day=900, intl_share=0.02,
                weights=dict(call_out=0.24, call_in=0.22, call_missed=0.05, sms=0.12, mms=0.02, data=0.35))
CHILD = Profile(events=(8, 20), call_median_s=40, data_mb_day=75, contacts=12, landline_share=0.0,
                weights=dict(call_out=0.10, call_in=0.16, call_missed=0.06, sms=0.16, mms=0.03, data=0.49))
BUSY = Profile(events=(8, 18), call_median_s=110, data_mb_day=520, contacts=40, intl_share=0.008,
               weights=dict(call_out=0.26, call_in=0.24, call_missed=0.04, sms=0.10, mms=0.01, data=0.35))
SENIOR = Profile(events=(5, 10), call_median_s=170, data_mb_day=25, contacts=10, landline_share=0.3,
                 service_sms_share=0.6,
                 weights=dict(call_out=0.40, call_in=0.35, call_missed=0.07, sms=0.08, mms=0.0, data=0.10))

HOME_CONTRACT_NO = "HC-100200"

CUSTOMERS: tuple[CustomerSpec, ...] = (
    CustomerSpec(
        contract_no="DEMO-0001", name="Петрова Анна Сергеевна", region="Moscow", since_days=2900,
        accounts=(
            AccountSpec(
                key="+79161234567", kind="mobile", tariff="smart-unlimited", opening=52000, since_days=2900,
                profile=ADULT,
                subscriptions=(Sub("number-management", 420),
                               Sub("family-locator", 300), Sub("roaming-abroad", 150, ended_days=139),
                               Sub("music-stream", 95), Sub("spam-filter", 40)),
                payments=(AutoPay(threshold=10000, amount=150000, card_last4="4417",
                                  description=_l("Auto-payment, card *%(last4)s", last4="4417")),),
                extras=(("loyalty", 100, "bonus", 10000, statement.Line("loyalty_bonus", {"years": 7})),),
            ),
            AccountSpec(
                key="+79161234568", kind="mobile", tariff="kids", opening=8000, since_days=1500, profile=CHILD,
                subscriptions=(Sub("parental-control", 1400), Sub("unlimited-messengers", 70),
                               Sub("number-management", 400)),
                payments=(MonthlyPay(day=2, amounts=(200, 400), description=_l("Card *%(last4)s", last4="4417")),),
            ),
            AccountSpec(
                key=HOME_CONTRACT_NO, kind="home", tariff="home-500-tv", opening=60000, since_days=1900,
                address="Москва, ул. Профсоюзная, д. 65, корп. 2, кв. 118", connection_type="gpon",
                contact_phone="+79161234567",
                subscriptions=(Sub("tv-basic", 1900), Sub("home-antivirus", 600), Sub("tv-cinema", 120)),
                payments=(MonthlyPay(day=25, amounts=(1500, 1500), description=_l("Card *%(last4)s", last4="4417")),),
                extras=(("outage", 58, "adjustment", 6600, statement.Line("outage_compensation", {"days": 2})),),
            ),
        ),
    ),
    CustomerSpec(
        contract_no="DEMO-0002", name="Соколов Дмитрий Андреевич", region="Saint Petersburg", since_days=1200,
        accounts=(
            AccountSpec(
                key="+79031112233", kind="mobile", tariff="smart", opening=30000, since_days=1200, profile=BUSY,
                subscriptions=(Sub("who-called", 1100), Sub("online-cinema", 200),
                               Sub("roaming-abroad", 75, ended_days=67)),
                payments=(MonthlyPay(day=10, amounts=(800, 1500), description=_l("Card *%(last4)s", last4="9021")),),
                extras=(("referral", 130, "bonus", 5000, _l("Bonus for inviting a friend")),),
            ),
        ),
    ),
    CustomerSpec(
        contract_no="DEMO-0003", name="Иванов Пётр Семёнович", region="Moscow", since_days=3600,
        accounts=(
            AccountSpec(
                key="+79262223344", kind="mobile", tariff="senior", opening=12000, since_days=3600,
                status="blocked_by_owner", blocked_days=9, profile=SENIOR,
                subscriptions=(Sub("who-called", 1000), Sub("sms-horoscope", 160, ended_days=101)),
                payments=(MonthlyPay(day=15, amounts=(300, 500), description=_l("Payment at a terminal in a shop"),
                                     skip_every=3),
                          PayUpTo(days_ago=12, target=15000, description=_l("Payment at a terminal in a shop"))),
            ),
        ),
    ),
)

SERVICE_SENDERS = ("Bank", "Delivery", "Taxi", "Clinic", "Gosuslugi", "Pharmacy", "Market")
INTL_CONTACTS = ("+375291234567", "+37491123456", "+998901234567")

# ---- small helpers ---------------------------------------------------------------------------------------------


def _month_start(day: date | datetime) -> datetime:
    return datetime(day.year, day.month, 1)


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1)


def _months(first: datetime, last: datetime) -> list[datetime]:
    out, month = [], _month_start(first)
    while month <= last:
        out.append(month)
        month = _next_month(month)
    return out


def _at(now: datetime, days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment ``days_ago`` days before ``now`` at a fixed local hour (stored in UTC)."""
    local = datetime.combine((now + LOCAL_OFFSET).date() - timedelta(days=days_ago), time(hour, minute))
    return local - LOCAL_OFFSET


def _happened(now: datetime, days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
    """Like ``_at``, but never later than ``now``: today's hour that has not come yet is taken from yesterday."""
    moment = _at(now, days_ago, hour, minute)
    return moment if moment <= now else moment - timedelta(days=1)


def _rub(rng: random.Random, bounds: tuple[int, int]) -> int:
    """A payment in whole hundreds of roubles within ``bounds`` (roubles), in kopecks."""
    return rng.randrange(bounds[0] // 100, bounds[1] // 100 + 1) * 100 * 100


# ---- catalog and customers -----------------------------------------------------------------------------------


def _seed_catalog(session: Session, added: Counter) -> tuple[dict[str, Tariff], dict[str, Service]]:
    tariffs = {t.code: t for t in session.scalars(select(Tariff).where(Tariff.code.in_([d["code"] for d in TARIFFS])))}
    for spec in TARIFFS:
        if spec["code"] not in tariffs:
            tariffs[spec["code"]] = Tariff(**spec)
            session.add(tariffs[spec["code"]])
            added["tariffs"] += 1
        elif spec["kind"] == "home" and not tariffs[spec["code"]].connection_types \
                and tariffs[spec["code"]].pause_monthly_fee is None:
            # A home tariff seeded before tariffs had these rules: complete it once (staff edits stay).
            for name in HOME_RULES:
                setattr(tariffs[spec["code"]], name, spec[name])
            added["home tariff rules"] += 1
    session.flush()
    codes = [d["code"] for d in SERVICES]
    services = {s.code: s for s in session.scalars(
        select(Service).where(Service.code.in_(codes)).options(selectinload(Service.tariffs)))}
    for spec in SERVICES:
        spec = dict(spec)
        compatible = [tariffs[code] for code in spec.pop("tariffs", ())]
        service = services.get(spec["code"])
        if service is None:
            service = services[spec["code"]] = Service(**spec, tariffs=[])
            session.add(service)
            added["services"] += 1
        for tariff in compatible:  # complete the links, never drop one staff added
            if tariff not in service.tariffs:
                service.tariffs.append(tariff)
                added["service links"] += 1
    for entry in (*tariffs.values(), *services.values()):
        if entry.code in ENGLISH and entry.name_en is None and entry.description_en is None:
            # New, or seeded before the catalog had English: filled once (staff edits stay).
            entry.name_en, entry.description_en = ENGLISH[entry.code]
            added["English names"] += entry not in session.new
    session.flush()
    return tariffs, services


def _seed_channels(session: Session, services: dict[str, Service], added: Counter) -> None:
    """The TV channels and which packages carry them; links staff added are kept."""
    channels = {c.name: c for c in session.scalars(
        select(TvChannel).where(TvChannel.name.in_([name for _, name, _, _ in CHANNELS]))
        .options(selectinload(TvChannel.packages)))}
    for number, name, adult, codes in CHANNELS:
        channel = channels.get(name)
        if channel is None:
            channel = channels[name] = TvChannel(name=name, number=number, adult=adult, packages=[])
            session.add(channel)
            added["tv channels"] += 1
        for code in codes:
            if services[code] not in channel.packages:
                channel.packages.append(services[code])
                added["channel links"] += 1
    session.flush()


def _seed_licences(session: Session, account: Account, services: dict[str, Service],
                   added: Counter) -> None:
    """A licence for a demo contract's antivirus subscription (its key is not known: it was "shown" long ago)."""
    service = services["home-antivirus"]
    for subscription in session.scalars(select(Subscription).where(
            Subscription.account_id == account.id, Subscription.service_id == service.id,
            Subscription.status == "active")):
        if session.scalar(select(AntivirusLicence.id).where(AntivirusLicence.subscription_id == subscription.id)):
            continue
        key = random.Random(f"licence:{account.id}").choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=20)
        session.add(AntivirusLicence(account_id=account.id, subscription_id=subscription.id,
                                     key_hash=hash_secret("".join(key)), key_tail="".join(key[-4:]),
                                     created_at=subscription.since))
        added["antivirus licences"] += 1


def _seed_customers(session: Session, now: datetime, tariffs: dict[str, Tariff],
                    added: Counter) -> dict[str, Account]:
    """Customers, accounts, lines and home contracts; returns the accounts by msisdn / contract number."""
    customers = {c.contract_no: c for c in session.scalars(
        select(Customer).where(Customer.contract_no.in_([c.contract_no for c in CUSTOMERS])))}
    msisdns = [a.key for c in CUSTOMERS for a in c.accounts if a.kind == "mobile"]
    contracts = [a.key for c in CUSTOMERS for a in c.accounts if a.kind == "home"]
    accounts = {line.msisdn: line.account for line in session.scalars(select(Line).where(Line.msisdn.in_(msisdns)))}
    accounts |= {hc.contract_no: hc.account
                 for hc in session.scalars(select(HomeContract).where(HomeContract.contract_no.in_(contracts)))}
    for spec in CUSTOMERS:
        customer = customers.get(spec.contract_no)
        if customer is None:
            customer = Customer(name=spec.name, region=spec.region, contract_no=spec.contract_no,
                                created_at=_at(now, spec.since_days, 11))
            session.add(customer)
            added["customers"] += 1
        for item in spec.accounts:
            if item.key in accounts:
                continue
            account = Account(customer=customer, kind=item.kind, status=item.status, region=spec.region,
                              tariff=tariffs[item.tariff], balance=0, created_at=_at(now, item.since_days, 11, 30))
            if item.kind == "mobile":
                session.add(Line(account=account, msisdn=item.key))
                added["lines"] += 1
            else:
                session.add(HomeContract(account=account, contract_no=item.key, address=item.address,
                                         connection_type=item.connection_type, billing_day=1,
                                         contact_phone=item.contact_phone))
                added["home contracts"] += 1
            session.add(account)
            accounts[item.key] = account
            added["accounts"] += 1
    session.flush()
    return accounts


def _seed_subscriptions(session: Session, now: datetime, account: Account, spec: AccountSpec,
                        services: dict[str, Service], added: Counter) -> None:
    have = set(session.scalars(select(Subscription.service_id).where(Subscription.account_id == account.id)))
    for sub in spec.subscriptions:
        service = services[sub.service]
        if service.id in have:
            continue
        ended = sub.ended_days is not None
        session.add(Subscription(account_id=account.id, service_id=service.id, status="ended" if ended else "active",
                                 since=_at(now, sub.since_days, 12, 15),
                                 until=_at(now, sub.ended_days, 18, 40) if ended else None))
        added["subscriptions"] += 1


# ---- usage -------------------------------------------------------------------------------------------------------


def _contacts(spec: AccountSpec, family: list[str]) -> list[str]:
    rng = random.Random(f"contacts:{spec.key}")
    numbers = [n for n in family if n != spec.key]
    while len(numbers) < spec.profile.contacts:
        numbers.append("+79" + "".join(str(rng.randrange(10)) for _ in range(9)))
    return numbers


def _landlines(spec: AccountSpec, region: str) -> list[str]:
    rng = random.Random(f"landlines:{spec.key}")
    code = "812" if region == "Saint Petersburg" else "495"
    return ["+7" + code + "".join(str(rng.randrange(10)) for _ in range(7)) for _ in range(5)]


def _day_events(spec: AccountSpec, day: date, contacts: list[str], landlines: list[str]) -> list[list]:
    """The records of one line on one day, without costs: [started_at, kind, counterpart, quantity]."""
    profile = spec.profile
    rng = random.Random(f"usage:{spec.key}:{day.isoformat()}")
    count = rng.randint(*profile.events)
    if day.weekday() >= 5:
        count = max(profile.events[0], int(count * 0.8))
    kinds = rng.choices(list(profile.weights), weights=list(profile.weights.values()), k=count)
    contact_weights = [1 / (i + 1) for i in range(len(contacts))]
    n_data = kinds.count("data")
    data_kb = profile.data_mb_day * 1024 * rng.uniform(0.3, 1.7)
    shares = [rng.random() + 0.1 for _ in range(n_data)]
    sizes = [max(1, int(data_kb * share / sum(shares))) for share in shares]
    events = []
    for kind in kinds:
        seconds = int(rng.triangular(7 * 3600, 23.75 * 3600, 18 * 3600))
        started = datetime.combine(day, time()) + timedelta(seconds=seconds) - LOCAL_OFFSET
        if kind == "data":
            events.append([started, kind, "internet", sizes.pop()])
            continue
        if kind == "sms" and rng.random() < profile.service_sms_share:
            events.append([started, kind, rng.choice(SERVICE_SENDERS), 1])
            continue
        counterpart = rng.choices(contacts, weights=contact_weights)[0]
        if kind.startswith("call") and rng.random() < profile.landline_share:
            counterpart = rng.choice(landlines)
        if kind == "call_out" and rng.random() < profile.intl_share:
            counterpart = rng.choice(INTL_CONTACTS)
        if kind in ("call_out", "call_in"):
            quantity = int(min(3600, max(4, rng.lognormvariate(math.log(profile.call_median_s), 0.9))))
        elif kind == "call_missed":
            quantity = 0
        else:
            quantity = 1
        events.append([started, kind, counterpart, quantity])
    events.sort(key=lambda e: e[0])
    return events


@dataclass
class MonthUse:
    minutes: int = 0
    sms: int = 0
    mms: int = 0
    kb: int = 0
    cost: int = 0


def _price(events: list[list], tariff: Tariff, use: MonthUse) -> None:
    """Append the cost to each event of one month, in order, using up the tariff's package."""
    for event in events:
        _, kind, counterpart, quantity = event
        cost = 0
        if kind == "call_out":
            minutes = math.ceil(quantity / 60)
            if counterpart in INTL_CONTACTS:
                cost = minutes * 3500
            else:
                over = max(0, use.minutes + minutes - max(tariff.minutes, use.minutes))
                use.minutes += minutes
                cost = over * 250
        elif kind == "sms" and counterpart.startswith("+"):
            use.sms += 1
            cost = 200 if use.sms > tariff.sms else 0
        elif kind == "mms":
            use.mms += 1
            cost = 800 if use.mms > tariff.mms else 0
        elif kind == "data":
            use.kb += quantity  # past the package the speed drops; nothing is charged
        use.cost += cost
        event.append(cost)


def _mobile_usage(spec: AccountSpec, region: str, tariff: Tariff, family: list[str], now: datetime,
                  start: datetime) -> tuple[list[list], dict[datetime, MonthUse]]:
    """Every record from ``start`` to ``now`` (or the block), priced month by month."""
    contacts, landlines = _contacts(spec, family), _landlines(spec, region)
    stop = _at(now, spec.blocked_days, 9, 0) if spec.blocked_days is not None else now
    months: dict[datetime, MonthUse] = {}
    records: list[list] = []
    day = _month_start(start).date()  # price from the month's first day, keep only from ``start``
    while day <= stop.date():
        month = _month_start(day)
        use = months.setdefault(month, MonthUse())
        events = [e for e in _day_events(spec, day, contacts, landlines) if e[0] < stop]
        _price(events, tariff, use)
        records.extend(e for e in events if e[0] >= start)
        day += timedelta(days=1)
    for month in months:  # what the ledger charges: only the records kept
        months[month].cost = sum(e[4] for e in records if _month_start(e[0]) == month)
    return records, months


def _home_usage(spec: AccountSpec, now: datetime, start: datetime) -> list[list]:
    """Internet sessions of a home router: a few a day, minutes to hours long, each with its address.

    Each record also carries the session's end (None while it is still on) and the IP address it was given.
    """
    records = []
    day = start.date()
    while day <= now.date():
        rng = random.Random(f"usage:{spec.key}:{day.isoformat()}")
        for _ in range(rng.randint(2, 6)):
            started = datetime.combine(day, time()) + timedelta(seconds=rng.randrange(86400))
            volume = rng.randint(300, 3500) * 1024
            ended = started + timedelta(seconds=rng.randint(600, 8 * 3600))
            ip = f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"  # the carrier-grade NAT pool
            if start <= started < now:
                records.append([started, "data", "internet", volume, 0, ended if ended <= now else None, ip])
        day += timedelta(days=1)
    records.sort(key=lambda e: e[0])
    return records


def _store_usage(session: Session, account: Account, records: list[list], added: Counter) -> None:
    """Insert the records of the days this account has no usage for yet."""
    have = {str(d)[:10] for d in session.scalars(
        select(func.date(UsageRecord.started_at)).where(UsageRecord.account_id == account.id).distinct())}
    rows = [dict(account_id=account.id, started_at=started, kind=kind, counterpart=counterpart, quantity=quantity,
                 cost=cost, ended_at=session_end[0] if session_end else None,
                 ip=session_end[1] if session_end else None)
            for started, kind, counterpart, quantity, cost, *session_end in records
            if started.date().isoformat() not in have]
    for i in range(0, len(rows), BATCH):
        session.execute(insert(UsageRecord), rows[i:i + BATCH])
    added["usage records"] += len(rows)


def _seed_allowance(session: Session, account: Account, tariff: Tariff, now: datetime, use: MonthUse,
                    added: Counter) -> None:
    start = _month_start(now)
    if session.scalar(select(Allowance.id).where(Allowance.account_id == account.id,
                                                 Allowance.period_start == start)):
        return
    data_total = tariff.data_mb
    session.add(Allowance(
        account_id=account.id, period_start=start, period_end=_next_month(start),
        minutes_total=tariff.minutes, minutes_left=max(0, tariff.minutes - use.minutes),
        sms_total=tariff.sms, sms_left=max(0, tariff.sms - use.sms),
        mms_total=tariff.mms, mms_left=max(0, tariff.mms - use.mms),
        data_mb_total=data_total, data_mb_left=max(0, data_total - math.ceil(use.kb / 1024)),
    ))
    added["allowances"] += 1


# ---- money -------------------------------------------------------------------------------------------------------


def _ledger_plan(spec: AccountSpec, tariff: Tariff, services: dict[str, Service], now: datetime,
                 start: datetime, usage: dict[datetime, MonthUse]) -> list[tuple[datetime, str, str, int, str]]:
    """The account's money movements since ``start``: (created_at, key, kind, amount, description)."""
    key = f"{KEY_PREFIX}{spec.key}:"
    months = _months(start, now)
    charges = [(start, key + "opening", "adjustment", spec.opening,
                _l("Balance on %(date)s, brought forward", date=start))]
    for month in months:
        charges.append((month + timedelta(minutes=5), key + f"tariff:{month:%Y%m}", "tariff_fee",
                        -tariff.monthly_fee, _l("Monthly fee, tariff %(name)s", name=tariff.name)))
    for sub in spec.subscriptions:
        service = services[sub.service]
        since = _at(now, sub.since_days, 12, 15)
        until = _at(now, sub.ended_days, 18, 40) if sub.ended_days is not None else None
        if service.connection_fee and since >= start:
            charges.append((since, key + f"svc:{service.code}:connect", "service_fee", -service.connection_fee,
                            _l("Connection: %(name)s", name=service.name)))
        if not service.monthly_fee:
            continue
        for month in months:
            moment = max(since, month + timedelta(minutes=6))
            if moment < start or moment >= _next_month(month) or (until and moment >= until):
                continue
            charges.append((moment + timedelta(minutes=1), key + f"svc:{service.code}:{month:%Y%m}", "service_fee",
                            -service.monthly_fee, _l("Monthly fee: %(name)s", name=service.name)))
    for month, use in usage.items():
        if use.cost:
            moment = min(_next_month(month) - timedelta(minutes=1), now - timedelta(minutes=1))
            charges.append((moment, key + f"usage:{month:%Y%m}", "usage", -use.cost,
                            _l("Calls and messages outside the package, %(month)s", month=month)))
    for name, days_ago, kind, amount, description in spec.extras:
        charges.append((_at(now, days_ago, 14, 20), key + name, kind, amount, description))
    for pay in spec.payments:
        if isinstance(pay, MonthlyPay):
            for month in months:
                rng = random.Random(f"pay:{spec.key}:{month:%Y%m}")
                moment = month + timedelta(days=pay.day - 1 + rng.randint(-1, 2), hours=rng.randint(6, 17),
                                           minutes=rng.randrange(60))
                if pay.skip_every and month.month % pay.skip_every == 0:
                    continue
                charges.append((moment, key + f"pay:{month:%Y%m}", "card_topup", _rub(rng, pay.amounts),
                                pay.description))
    charges = sorted((c for c in charges if start <= c[0] <= now), key=lambda c: c[0])

    plan, balance = [], 0
    auto = [p for p in spec.payments if isinstance(p, AutoPay)]
    up_to = sorted((p for p in spec.payments if isinstance(p, PayUpTo)), key=lambda p: -p.days_ago)
    for moment, entry_key, kind, amount, description in charges:
        while up_to and _at(now, up_to[0].days_ago, 16, 5) <= moment:
            pay = up_to.pop(0)
            topup = max(0, math.ceil((pay.target - balance) / 10000)) * 10000
            if topup:
                plan.append((_at(now, pay.days_ago, 16, 5), key + f"pay-up-to:{pay.days_ago}", "card_topup", topup,
                             pay.description))
                balance += topup
        for rule in auto:
            if amount < 0 and balance + amount < rule.threshold:
                plan.append((moment - timedelta(minutes=2), entry_key.replace(key, key + "auto:", 1), "card_topup",
                             rule.amount, rule.description))
                balance += rule.amount
        plan.append((moment, entry_key, kind, amount, description))
        balance += amount
    for pay in up_to:
        moment = _at(now, pay.days_ago, 16, 5)
        topup = max(0, math.ceil((pay.target - balance) / 10000)) * 10000
        if topup and moment <= now:
            plan.append((moment, key + f"pay-up-to:{pay.days_ago}", "card_topup", topup, pay.description))
            balance += topup
    return plan


def _store_ledger(session: Session, account: Account, plan: list[tuple], added: Counter) -> None:
    keys = [entry[1] for entry in plan]
    have = set(session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.idempotency_key.in_(keys))))
    for created_at, key, kind, amount, description in plan:
        if key not in have:
            session.add(LedgerEntry(account_id=account.id, amount=amount, kind=kind, idempotency_key=key,
                                    description=statement.in_operator_language(description),
                                    params=statement.params_of(description), created_at=created_at,
                                    code=operation_codes.generate() if kind in operation_codes.CODED_KINDS else None))
            added["ledger entries"] += 1


def _settle_balances(session: Session, accounts: list[Account]) -> None:
    """``Account.balance`` is the sum of the account's ledger entries."""
    session.flush()
    ids = [a.id for a in accounts]
    sums = dict(session.execute(select(LedgerEntry.account_id, func.coalesce(func.sum(LedgerEntry.amount), 0))
                                .where(LedgerEntry.account_id.in_(ids)).group_by(LedgerEntry.account_id)).all())
    for account in accounts:
        total = int(sums.get(account.id, 0))
        if account.balance != total:
            account.balance = total


# ---- the command -------------------------------------------------------------------------------------------------


# Bonus points per demo account (the money issue adds how they are earned).
BONUS_POINTS = {"+79161234567": 1840, "+79161234568": 120, "+79031112233": 560, "+79262223344": 2310}


# Services that cannot be on one line together.
CONFLICTS = (("hidden-number", "who-called"),)


def _seed_conflicts(services: dict[str, Service]) -> None:
    for code, other in CONFLICTS:
        if services[other] not in services[code].conflicts:
            services[code].conflicts.append(services[other])


REWARDS = (
    dict(code="min-100", name="100 минут на любые номера", kind="minutes", quantity=100, cost=300),
    dict(code="sms-50", name="50 SMS", kind="sms", quantity=50, cost=100),
    dict(code="gb-1", name="1 ГБ интернета", kind="data_mb", quantity=1024, cost=250),
    dict(code="gb-5", name="5 ГБ интернета", kind="data_mb", quantity=5120, cost=1000),
    dict(code="rub-100", name="Скидка 100 ₽ на списания", kind="discount", quantity=10000, cost=1200),
)


def _seed_rewards(session: Session, added: Counter) -> None:
    have = set(session.scalars(select(Reward.code)))
    for values in REWARDS:
        if values["code"] not in have:
            session.add(Reward(**values))
            added["rewards"] += 1


AGREEMENTS = (
    ("personal-data", "Согласие на обработку персональных данных",
     "Я даю оператору согласие на обработку моих персональных данных: фамилии, имени, отчества, номера телефона, "
     "адреса подключения и сведений об оказанных услугах — для заключения и исполнения договора об оказании "
     "услуг связи, расчётов и обращений в поддержку.\n\n"
     "Согласие действует до окончания договора и может быть отозвано письменным заявлением.\n\n"
     "Сведения о звонках и сообщениях не передаются третьим лицам, кроме случаев, предусмотренных законом."),
    ("terms", "Условия оказания услуг связи",
     "Оператор оказывает услуги подвижной связи, доступа в интернет и телевидения по выбранному абонентом "
     "тарифу.\n\nАбонентская плата списывается в начале расчётного периода; услуги сверх пакета — по мере "
     "потребления. При отрицательном балансе оказание услуг может быть приостановлено.\n\n"
     "Изменения тарифа и условий публикуются заранее; абонент подтверждает новые условия в личном кабинете."),
)


def _seed_agreements(session: Session, now: datetime, added: Counter) -> None:
    """The documents customers accept with an SMS code (version 1 of each)."""
    from portal.domain.documents.consent import body_hash

    have = set(session.scalars(select(PolicyDocument.slug)))
    for slug, title, body in AGREEMENTS:
        if slug not in have:
            session.add(PolicyDocument(slug=slug, version=1, title=title, body=body, body_hash=body_hash(body),
                                       published_at=now - timedelta(days=30)))
            added["agreements"] += 1


BONUS_MONTHS = 6  # the points were earned over this many past months


def _seed_bonus(session: Session, accounts: dict[str, Account], now: datetime, added: Counter) -> None:
    """Bonus accounts and the monthly "earned" entries their points add up to."""
    bonuses = {b.account_id: b for b in session.scalars(select(BonusAccount))}
    with_history = set(session.scalars(select(BonusEntry.account_id).distinct()))
    months = _months(_month_start(now) - timedelta(days=31 * BONUS_MONTHS - 15), now)[-BONUS_MONTHS - 1:-1]
    for key, points in BONUS_POINTS.items():
        account = accounts.get(key)
        if account is None:
            continue
        bonus = bonuses.get(account.id)
        if bonus is None:
            bonus = BonusAccount(account_id=account.id, points=points)
            session.add(bonus)
            added["bonus accounts"] += 1
        if account.id in with_history:
            continue
        # Split the balance over the months, unevenly but deterministically; the entries sum to the balance.
        rng = random.Random(f"bonus:{key}")
        weights = [rng.randint(5, 15) for _ in months]
        shares = [bonus.points * w // sum(weights) for w in weights]
        shares[-1] += bonus.points - sum(shares)
        for month, share in zip(months, shares):
            if share <= 0:
                continue
            line = _l("For %(month)s", month=month)
            session.add(BonusEntry(account_id=account.id, points=share, kind="earned",
                                   idempotency_key=f"{KEY_PREFIX}bonus:{key}:{month:%Y%m}",
                                   description=statement.in_operator_language(line), params=statement.params_of(line),
                                   created_at=_next_month(month) + timedelta(hours=1)))
            added["bonus entries"] += 1


def _seed_saved_cards(session: Session, accounts: dict[str, Account], now: datetime, added: Counter) -> None:
    """The card an auto-payment in the history charges is a saved card of the owner, with its rule.

    The owner gets a login without a password (none is usable: the README's SMS password still signs in).
    """
    for customer in CUSTOMERS:
        for spec in customer.accounts:
            for rule in (p for p in spec.payments if isinstance(p, AutoPay) and p.card_last4):
                account = accounts[spec.key]
                login = session.scalar(select(Login).where(Login.primary_account_id == account.id))
                if login is None:
                    login = Login(primary_account_id=account.id, created_at=_at(now, spec.since_days))
                    session.add(login)
                    session.flush()
                    session.add(LoginAccount(login_id=login.id, account_id=account.id, created_at=login.created_at))
                    added["logins"] += 1
                token = f"tok_demo_{account.id}_{rule.card_last4}"
                card = session.scalar(select(CardToken).where(CardToken.gateway_token == token))
                if card is None:
                    card = CardToken(login_id=login.id, gateway_token=token, last4=rule.card_last4,
                                     expiry=f"09/{(now.year + 3) % 100:02d}", created_at=_at(now, 400))
                    session.add(card)
                    session.flush()
                    added["saved cards"] += 1
                # The development provider holds the card its token names, so the auto-payment can charge it.
                dev_provider.save_method(session, token=token, last4=rule.card_last4, now=_at(now, 400))
                if not session.scalar(select(AutoPayment.id).where(AutoPayment.account_id == account.id,
                                                                   AutoPayment.card_token_id == card.id)):
                    session.add(AutoPayment(account_id=account.id, login_id=login.id, card_token_id=card.id,
                                            kind="threshold", threshold=rule.threshold, amount=rule.amount,
                                            created_at=_at(now, 400)))
                    added["auto-payments"] += 1


# Prepaid cards for trying the voucher page (README): (code, PIN, kopecks).
DEMO_VOUCHERS = (("1111222233334444", "1234", 50000), ("5555666677778888", "4321", 100000))


def _seed_vouchers(session: Session, key: str, now: datetime, added: Counter) -> None:
    from portal.domain.vouchers import code_digest

    for code, pin, amount in DEMO_VOUCHERS:
        digest = code_digest(code, key=key)
        if not session.scalar(select(Voucher.id).where(Voucher.code_digest == digest)):
            session.add(Voucher(code_digest=digest, pin_hash=hash_secret(pin), amount=amount, created_at=now))
            added["vouchers"] += 1


# Ringback melodies (public-domain tunes for the preview): code → (title, artist, kopecks a day, tune).
MELODIES = {
    "melody-kalinka": ("Калинка", "русская народная песня", 50,
                       "E5:1 D5:1 C5:1 B4:1 A4:2 E4:2 E5:1 D5:1 C5:1 B4:1 A4:2 E4:2 A4:1 B4:1 C5:1 D5:1 E5:4"),
    "melody-ode-to-joy": ("Ода к радости", "Л. ван Бетховен", 80,
                          "E5:2 E5:2 F5:2 G5:2 G5:2 F5:2 E5:2 D5:2 C5:2 C5:2 D5:2 E5:2 E5:3 D5:1 D5:4"),
    "melody-fur-elise": ("К Элизе", "Л. ван Бетховен", 80,
                         "E5:1 D#5:1 E5:1 D#5:1 E5:1 B4:1 D5:1 C5:1 A4:3 R:1 C4:1 E4:1 A4:1 B4:3 R:1 E4:1 G#4:1 "
                         "B4:1 C5:3"),
    "melody-nachtmusik": ("Маленькая ночная серенада", "В. А. Моцарт", 100,
                          "G5:2 R:1 D5:1 G5:2 R:1 D5:1 G5:1 D5:1 G5:1 B5:1 D6:4 C6:2 R:1 A5:1 C6:2 R:1 A5:1 "
                          "C6:1 A5:1 F#5:1 A5:1 D5:4"),
    "melody-jingle-bells": ("Jingle Bells", "Дж. Пьерпонт", 60,
                            "E5:2 E5:2 E5:4 E5:2 E5:2 E5:4 E5:2 G5:2 C5:3 D5:1 E5:8"),
    "melody-swan-lake": ("Лебединое озеро", "П. И. Чайковский", 120,
                         "B4:6 C#5:2 D5:2 E5:2 F#5:6 D5:2 F#5:6 D5:2 F#5:6 B4:2 D5:2 B4:2 G4:2 D5:2 B4:8"),
}


def _seed_melodies(session: Session, added: Counter) -> None:
    have = set(session.scalars(select(Service.code).where(Service.code.in_(list(MELODIES)))))
    for code, (title, artist, daily_fee, tune) in MELODIES.items():
        if code in have:
            continue
        service = Service(code=code, name=title, category="ringback", kind="mobile", daily_fee=daily_fee,
                          description=f"«{title}» ({artist}) вместо гудка.")
        session.add(service)
        session.flush()
        session.add(Melody(service_id=service.id, artist=artist, tune=tune))
        added["melodies"] += 1


# Planned works in the home contract's building, so its dashboard and the status page show a notice.
DEMO_NOTICE = dict(kind="works", title="Замена оборудования в доме",
                   text="Меняем узел доступа в подъезде: интернет и ТВ не будут работать до трёх часов ночью.",
                   scope="address", scope_value="Москва, ул. Профсоюзная, д. 65, корп. 2")


def _seed_notice(session: Session, now: datetime, added: Counter) -> None:
    if session.scalar(select(ServiceNotice.id).where(ServiceNotice.title == DEMO_NOTICE["title"])):
        return
    # The coming night, 01:00–04:00 Moscow time (UTC+3).
    start = datetime.combine(now.date(), time(22))
    if start <= now:
        start += timedelta(days=1)
    notice = ServiceNotice(**DEMO_NOTICE, starts_at=start, expected_end=start + timedelta(hours=3),
                           state="scheduled", open=True, created_at=now, updated_at=now, sms_done=None)
    session.add(notice)
    session.flush()
    session.add(ServiceNoticeUpdate(notice_id=notice.id, created_at=now, text="", state_to="scheduled"))
    added["notices"] += 1


# Messages on the family head's voicemail: (days ago, hour, minute, caller or None for a hidden number, seconds).
VOICE_MESSAGES = ((0, 9, 12, "+79031112233", 24), (1, 18, 40, None, 8), (3, 13, 5, "+74951234567", 41),
                  (9, 20, 17, "+79161234568", 15))


def _seed_voicemail(session: Session, accounts: dict[str, Account], now: datetime, added: Counter) -> None:
    account = accounts["+79161234567"]
    if session.get(VoicemailBox, account.id) is None:
        session.add(VoicemailBox(account_id=account.id, enabled=True, conditions="busy,no_answer,unreachable",
                                 updated_at=_at(now, 400)))
    have = set(session.scalars(select(VoiceMessage.reference).where(VoiceMessage.account_id == account.id)))
    for n, (days_ago, hour, minute, caller, seconds) in enumerate(VOICE_MESSAGES, 1):
        reference = f"demo-vm-{account.id}-{n}"
        if reference not in have:
            session.add(VoiceMessage(account_id=account.id, reference=reference, caller=caller,
                                     received_at=_happened(now, days_ago, hour, minute), duration_s=seconds))
            added["voice messages"] += 1


def seed_catalog(session: Session) -> tuple[dict[str, Tariff], dict[str, Service]]:
    """The demo catalog alone (tariffs, services, conflicts, TV channels, melodies), by code; flushes, no commit.

    For generated data (bench/seed_scale.py) that needs the same catalog without the demo customers.
    """
    added: Counter = Counter()
    tariffs, services = _seed_catalog(session, added)
    _seed_conflicts(services)
    _seed_channels(session, services, added)
    _seed_melodies(session, added)
    for entry in (*tariffs.values(), *services.values()):
        if entry.code in ENGLISH and entry.name_en is None and entry.description_en is None:
            # New, or seeded before the catalog had English: filled once (staff edits stay).
            entry.name_en, entry.description_en = ENGLISH[entry.code]
            added["English names"] += entry not in session.new
    session.flush()
    return tariffs, services


def seed_demo(session: Session, *, now: datetime | None = None, voucher_key: str | None = None) -> str:
    """Load (or complete) the demo catalog, customers and six months of history; one commit."""
    if now is None:
        now = utcnow()
    elif now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    now = now.replace(microsecond=0)
    added: Counter = Counter()
    start = datetime.combine((now - timedelta(days=USAGE_DAYS)).date(), time())
    ledger_start = _month_start(start)

    tariffs, services = _seed_catalog(session, added)
    _seed_conflicts(services)
    _seed_channels(session, services, added)
    accounts = _seed_customers(session, now, tariffs, added)
    family: dict[str, list[str]] = {c.contract_no: [a.key for a in c.accounts if a.kind == "mobile"]
                                    for c in CUSTOMERS}
    for customer in CUSTOMERS:
        for spec in customer.accounts:
            account = accounts[spec.key]
            tariff = account.tariff or tariffs[spec.tariff]  # an existing account keeps its tariff
            _seed_subscriptions(session, now, account, spec, services, added)
            if spec.kind == "home":
                _seed_licences(session, account, services, added)
            if spec.kind == "mobile":
                records, usage = _mobile_usage(spec, customer.region, tariff, family[customer.contract_no], now,
                                               start)
                _seed_allowance(session, account, tariff, now, usage.get(_month_start(now), MonthUse()), added)
            else:
                records, usage = _home_usage(spec, now, start), {}
            _store_usage(session, account, records, added)
            _store_ledger(session, account, _ledger_plan(spec, tariff, services, now, ledger_start, usage), added)
    _seed_bonus(session, accounts, now, added)
    _seed_saved_cards(session, accounts, now, added)
    _seed_rewards(session, added)
    _seed_voicemail(session, accounts, now, added)
    _seed_melodies(session, added)
    _seed_agreements(session, now, added)
    _seed_notice(session, now, added)
    if voucher_key:
        _seed_vouchers(session, voucher_key, now, added)
    _settle_balances(session, list(accounts.values()))
    session.commit()
    # What the nightly job would have built: call-detail totals read whole days from here.
    from portal.domain.details import roll_up

    roll_up(session, since=start.date(), through=now.date() - timedelta(days=1))

    if not sum(added.values()):
        return (f"Demo data already present ({len(CUSTOMERS)} customers, {len(accounts)} accounts); "
                "nothing added.")
    return "Demo data loaded: " + ", ".join(f"{what} {added[what]}" for what in SUMMARY_ORDER if added[what]) + "."
