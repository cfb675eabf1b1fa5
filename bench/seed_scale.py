"""A realistic operator database of any size, fast (issue 16): the data the scale benchmarks run on.

    .venv/bin/python bench/seed_scale.py --accounts N [DATABASE_URL] [--seed 1] [--usage-per-account 20]
                                         [--today YYYY-MM-DD] [--reset] [--no-vacuum]

DATABASE_URL (or BENCH_DATABASE_URL; default postgresql://postgres@127.0.0.1:5432/bench_scale) gets the
schema from the migrations (``flask db upgrade``), the demo catalog (portal.domain.demo.seed_catalog) and
then N accounts: customers with Russian names (some companies with several lines, some families), mobile
lines (+7 9xx, unique) and home contracts (HC-…, billing days spread over the month), tariffs and
services of the catalog (daily-fee ones too), six months of ledger history whose sums are the balances
(the fees under the billing run's own keys, so a run over a past day finds them charged), usage records,
the current packages, promised payments (some overdue, their accounts suspended), logins, saved cards
with auto-payment rules, blocked lines and paused home contracts.

PostgreSQL: one transaction of COPY streams (psycopg's copy API); the foreign keys, the secondary
indexes and the unique constraints of the big tables are dropped first and built again at the end, which
also checks every reference. SQLite (small N only): executemany.  The same --seed, --today and sizes give
the same data.  A PostgreSQL database is created if missing; one that has accounts already is refused
unless --reset (which drops its public schema first).  Prints the time taken and the rows per table, then
checks the ledger (``ledger.verify``, what ``flask billing verify`` runs).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_babel import lazy_gettext as _l  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from bench.common import postgres_database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.domain import demo, ledger, statement  # noqa: E402
from portal.domain.billing import billed_at  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Account, Service, Tariff, utcnow  # noqa: E402
from portal.models.customers import fold_name  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_scale"
CHUNK = 5000  # accounts generated (and sent) at a time; part of what --seed reproduces
HISTORY_DAYS = 183  # six months of ledger and usage

# The tables written, with their columns in the order the rows are built.
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("id", "name", "name_folded", "region", "contract_no", "created_at"),
    "account": ("id", "customer_id", "kind", "status", "region", "tariff_id", "balance", "created_at"),
    "line": ("account_id", "msisdn"),
    "home_contract": ("account_id", "contract_no", "address", "connection_type", "billing_day", "contact_phone"),
    "subscription": ("id", "account_id", "service_id", "status", "since", "until"),
    "allowance": ("id", "account_id", "period_start", "period_end", "minutes_total", "minutes_left", "sms_total",
                  "sms_left", "mms_total", "mms_left", "data_mb_total", "data_mb_left"),
    "ledger_entry": ("id", "account_id", "amount", "kind", "idempotency_key", "description", "params", "created_at"),
    "usage_record": ("id", "account_id", "started_at", "kind", "counterpart", "quantity", "cost", "ended_at", "ip"),
    "promised_payment": ("id", "account_id", "amount", "fee", "repaid", "status", "idempotency_key", "created_at",
                         "due_at"),
    "home_pause": ("id", "account_id", "start_on", "resume_on", "monthly_fee", "status", "created_at"),
    "login": ("id", "primary_account_id", "must_change_password", "enabled", "created_at"),
    "login_account": ("login_id", "account_id", "created_at"),
    "card_token": ("id", "login_id", "gateway_token", "last4", "expiry", "created_at"),
    "auto_payment": ("id", "account_id", "login_id", "card_token_id", "kind", "threshold", "day", "amount",
                     "enabled", "failures", "created_at"),
}
# Parents first: the order the tables are written in on SQLite, where the foreign keys stay on.
ORDER = tuple(COLUMNS)
# Big tables: their unique constraints are dropped for the load too, and built again at the end.
BIG = ("ledger_entry", "usage_record", "subscription", "allowance")

# ---- names ----------------------------------------------------------------------------------------------------

SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
    "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
    "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
    "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
    "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров",
    "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
    "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов",
    "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев",
    "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков",
    "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов",
    "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов",
    "Анисимов", "Еремеев", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров",
    "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов",
    "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов",
)
UNCHANGED = ("Шевчук", "Ковальчук", "Бондаренко", "Ткаченко", "Кравченко", "Коваленко", "Шевченко", "Лысенко",
             "Черных", "Седых", "Белых", "Кох", "Шульц", "Ким", "Пак", "Цой")
MALE = ("Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Василий", "Виктор",
        "Владимир", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Денис", "Дмитрий", "Евгений", "Егор", "Иван",
        "Игорь", "Илья", "Кирилл", "Константин", "Леонид", "Максим", "Матвей", "Михаил", "Никита", "Николай", "Олег",
        "Павел", "Пётр", "Роман", "Руслан", "Сергей", "Станислав", "Степан", "Тимур", "Фёдор", "Юрий", "Ярослав")
FEMALE = ("Александра", "Алина", "Алла", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория", "Галина",
          "Дарья", "Диана", "Екатерина", "Елена", "Елизавета", "Жанна", "Зоя", "Инна", "Ирина", "Кристина", "Ксения",
          "Лариса", "Любовь", "Людмила", "Маргарита", "Марина", "Мария", "Надежда", "Наталья", "Нина", "Оксана",
          "Ольга", "Полина", "Светлана", "София", "Тамара", "Татьяна", "Ульяна", "Юлия", "Яна")
# Patronymics: (male form, female form).
PATRONYMICS = (("Александрович", "Александровна"), ("Андреевич", "Андреевна"), ("Антонович", "Антоновна"),
               ("Борисович", "Борисовна"), ("Викторович", "Викторовна"), ("Владимирович", "Владимировна"),
               ("Денисович", "Денисовна"), ("Иванович", "Ивановна"), ("Игоревич", "Игоревна"),
               ("Кириллович", "Кирилловна"), ("Максимович", "Максимовна"), ("Михайлович", "Михайловна"),
               ("Олегович", "Олеговна"), ("Павлович", "Павловна"), ("Петрович", "Петровна"),
               ("Романович", "Романовна"), ("Сергеевич", "Сергеевна"), ("Степанович", "Степановна"),
               ("Фёдорович", "Фёдоровна"), ("Юрьевич", "Юрьевна"), ("Николаевич", "Николаевна"),
               ("Дмитриевич", "Дмитриевна"), ("Алексеевич", "Алексеевна"), ("Евгеньевич", "Евгеньевна"))
COMPANY_FORMS = ("ООО", "АО", "ПАО", "ИП")
COMPANY_WORDS = ("Северный ветер", "Вектор", "Гранит", "Альфа-Строй", "Техносервис", "Рассвет", "Меридиан", "Орион",
                 "Полярная звезда", "Садовод", "Логистик", "Байкал", "Ладога", "Столица", "Кристалл", "Восход",
                 "Импульс", "Ресурс", "Прогресс", "Медтехника", "Волга-Транс", "Уральские самоцветы", "Стройдом")
STREETS = ("Профсоюзная", "Ленинский проспект", "Тверская", "Арбат", "Мясницкая", "Новослободская", "Бутырская",
           "Каховка", "Нагорная", "Садовая-Кудринская", "Пятницкая", "Большая Ордынка", "Вавилова", "Академика Янгеля",
           "Митинская", "Героев Панфиловцев", "Островитянова", "Молодёжная", "Маршала Жукова", "Лесная")
REGIONS = (("Moscow", 60), ("Saint Petersburg", 25), ("Novosibirsk", 5), ("Yekaterinburg", 5), ("Kazan", 5))
CONNECTIONS = ("fttb", "gpon", "docsis")
PAUSED = "blocked_by_owner"  # a paused home contract (portal.domain.home_pause)


def _weighted(pairs):
    return [value for value, weight in pairs for _ in range(weight)]


REGION_CHOICE = _weighted(REGIONS)
MOBILE_TARIFF_CHOICE = _weighted((("smart-mini", 25), ("smart", 30), ("smart-unlimited", 15), ("senior", 10),
                                  ("kids", 8), ("smart-2019", 12)))
USAGE_KINDS = _weighted((("call_out", 30), ("call_in", 26), ("call_missed", 5), ("sms", 12), ("mms", 1),
                         ("data", 26)))


@dataclass
class Ids:
    """The next id of each table (after what the database holds already)."""
    next: dict

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


class Catalog:
    """The demo catalog as plain values (no ORM attribute access in the hot loops), with its texts made once."""

    def __init__(self, tariffs: dict, services: dict):
        self.text_cache: dict = {}
        plain = {}
        for tariff in tariffs.values():
            plain[tariff.id] = SimpleNamespace(
                id=tariff.id, kind=tariff.kind, archived=tariff.archived, monthly_fee=tariff.monthly_fee,
                minutes=tariff.minutes, sms=tariff.sms, mms=tariff.mms, data_mb=tariff.data_mb,
                pause_monthly_fee=tariff.pause_monthly_fee, connection_types=tariff.connection_type_list,
                fee_text=self.text(_l("Monthly fee, tariff %(name)s", name=tariff.name)))
        self.mobile = [plain[tariffs[code].id] for code in MOBILE_TARIFF_CHOICE]
        self.home = [plain[t.id] for t in tariffs.values() if t.kind == "home" and not t.archived]
        conflicts = {(a, b) for a, b in demo.CONFLICTS} | {(b, a) for a, b in demo.CONFLICTS}
        chosen = [s for s in services.values() if not s.archived and s.category != "ringback"]
        by_code = {s.code: SimpleNamespace(
            id=s.id, code=s.code, kind=s.kind, connection_fee=s.connection_fee, monthly_fee=s.monthly_fee,
            daily_fee=s.daily_fee, tariff_ids={t.id for t in s.tariffs},
            connect_text=self.text(_l("Connection: %(name)s", name=s.name)),
            monthly_text=self.text(_l("Monthly fee: %(name)s", name=s.name)),
            daily_text=self.text(_l("Daily fee: %(name)s", name=s.name))) for s in chosen}
        for service in by_code.values():
            service.conflicts = {b for a, b in conflicts if a == service.code}
        self.compatible: dict[int, list] = {}
        for tariff in tariffs.values():
            kinds = {"mobile"} if tariff.kind == "mobile" else {"home", "tv"}
            self.compatible[tariff.id] = [s for s in by_code.values()
                                          if s.kind in kinds and (not s.tariff_ids or tariff.id in s.tariff_ids)]
        self.terminal_text = self.text(_l("Payment at a terminal in a shop"))
        self.card_texts: dict[str, tuple] = {}

    def card_text(self, last4: str) -> tuple[str, str | None]:
        found = self.card_texts.get(last4)
        if found is None:
            found = self.card_texts[last4] = self.text(_l("Card *%(last4)s", last4=last4))
        return found

    def cached(self, description) -> tuple[str, str | None]:
        """``text`` of a line without values, made once."""
        key = description._args[0]
        if key not in self.text_cache:
            self.text_cache[key] = self.text(description)
        return self.text_cache[key]

    def text(self, description) -> tuple[str, str | None]:
        """(stored text, stored params as JSON) of a statement line, as the portal stores it."""
        params = statement.params_of(description)
        return (statement.in_operator_language(description),
                json.dumps(params, ensure_ascii=False) if params else None)


def carries(tariff, connection: str) -> bool:
    return not tariff.connection_types or connection in tariff.connection_types


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _period_starts(billing_day: int, first: date, today: date) -> list[date]:
    """The period start days from ``first`` up to ``today`` (not including it: today is the run's)."""
    starts, month = [], _month_start(first)
    while month <= today:
        day = month.replace(day=min(billing_day, 28))
        if first <= day < today:
            starts.append(day)
        month = _next_month(month)
    return starts


def _current_period(billing_day: int, today: date) -> tuple[date, date]:
    day = min(billing_day, 28)
    start = today.replace(day=day) if today.day >= day else (_month_start(today) - timedelta(days=1)).replace(day=day)
    return start, (start.replace(day=28) + timedelta(days=4)).replace(day=day)


class Generator:
    """Builds the rows of CHUNK accounts at a time, table by table (tuples in COLUMNS order)."""

    def __init__(self, catalog: Catalog, ids: Ids, *, seed: int, today: date, usage_per_account: int):
        self.catalog, self.ids, self.seed, self.today = catalog, ids, seed, today
        self.now = datetime.combine(today, datetime.min.time()) + timedelta(hours=9)
        self.start = _month_start(today - timedelta(days=HISTORY_DAYS))  # the ledger's first day
        self.usage_start = datetime.combine(today - timedelta(days=HISTORY_DAYS), datetime.min.time())
        self.usage_per_account = usage_per_account
        self.brought_forward = catalog.text(_l("Balance on %(date)s, brought forward", date=self.start))
        self.start_moment = datetime.combine(self.start, datetime.min.time())
        # Every day of the history (today is the billing run's): its key prefix, billed moment and month.
        months = []
        month = self.start
        while month <= today:
            months.append(month)
            month = _next_month(month)
        self.months = months
        self.month_of = {(m.year, m.month): n for n, m in enumerate(months)}
        self.days = [(f"bill:{day}:", billed_at(day), self.month_of[day.year, day.month])
                     for day in (self.start + timedelta(days=n) for n in range((today - self.start).days))]
        self.periods = {billing_day: [(d - self.start).days for d in _period_starts(billing_day, self.start, today)]
                        for billing_day in range(1, 29)}
        self.usage_texts = [catalog.text(_l("Calls and messages outside the package, %(month)s",
                                            month=datetime.combine(m, datetime.min.time()))) for m in months]
        self.month_keys = [f"{m:%Y%m}" for m in months]
        self.month_ends = [min(datetime.combine(_next_month(m), datetime.min.time()) - timedelta(minutes=1),
                               self.now - timedelta(minutes=1)) for m in months]
        self.customer_no = 0
        self.msisdn_no = 0
        self.contract_no = 0
        # A permutation of the 10^9 subscriber numbers after +79: unique, and spread over every prefix.
        self.msisdn_mul, self.msisdn_add = 387_420_489, 123_456_789 + seed * 7919

    def msisdn(self) -> str:
        self.msisdn_no += 1
        return f"+79{(self.msisdn_no * self.msisdn_mul + self.msisdn_add) % 1_000_000_000:09d}"

    def person(self, rng: random.Random, surname: str | None = None) -> str:
        female = rng.random() < 0.52
        if surname is None:
            surname = rng.choice(SURNAMES) if rng.random() < 0.93 else rng.choice(UNCHANGED)
        if female and surname in SURNAMES:
            surname += "а"
        first = rng.choice(FEMALE if female else MALE)
        patronymic = rng.choice(PATRONYMICS)[1 if female else 0]
        return f"{surname} {first} {patronymic}"

    def chunk(self, number: int, accounts: int) -> dict[str, list[tuple]]:
        rows: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
        rng = random.Random(f"{self.seed}:{number}")
        made = 0
        while made < accounts:
            made += self.customer(rng, rows, accounts - made)
        return rows

    def customer(self, rng: random.Random, rows: dict, room: int) -> int:
        self.customer_no += 1
        customer_id = self.ids.take("customer")
        region = rng.choice(REGION_CHOICE)
        roll = rng.random()
        if roll < 0.03:  # a company: several lines
            name = f"{rng.choice(COMPANY_FORMS)} «{rng.choice(COMPANY_WORDS)}»"
            if name.startswith("ИП"):
                name = "ИП " + self.person(rng)
            count = rng.randint(3, 12)
        else:
            name = self.person(rng)
            count = 1 if roll < 0.72 else 2 if roll < 0.92 else 3  # families: a child's or a parent's line
        count = min(count, room)
        since = self.now - timedelta(days=rng.randint(200, 4000), minutes=rng.randrange(1440))
        rows["customer"].append((customer_id, name, fold_name(name), region, f"SC-{self.customer_no:08d}", since))
        account_ids = [self.account(rng, rows, customer_id, region, since, n) for n in range(count)]
        if rng.random() < 0.4:
            self.login(rng, rows, account_ids, since)
        return count

    def account(self, rng: random.Random, rows: dict, customer_id: int, region: str, since: datetime,
                n: int) -> int:
        account_id = self.ids.take("account")
        home = region == "Moscow" and n == 0 and rng.random() < 0.15
        created = since + timedelta(days=n * rng.randint(0, 90))
        status = "active"
        roll = rng.random()
        if roll < 0.02:
            status = "blocked_by_owner"
        elif roll < 0.025:
            status = "blocked_lost"
        elif roll < 0.03:
            status = "terminated"
        if home:
            connection = rng.choice(CONNECTIONS)
            tariff = rng.choice([t for t in self.catalog.home if carries(t, connection)])
            billing_day = rng.randint(1, 28)
            self.contract_no += 1
            rows["home_contract"].append((
                account_id, f"HC-{2_000_000 + self.contract_no}",
                f"Москва, ул. {rng.choice(STREETS)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 400)}",
                connection, billing_day, None))
        else:
            tariff = rng.choice(self.catalog.mobile)
            billing_day = 1
            rows["line"].append((account_id, self.msisdn()))
        balance = self.history(rng, rows, account_id, tariff, billing_day, status, home)
        if status == "active" and home and rng.random() < 0.06 and tariff.pause_monthly_fee is not None:
            status = PAUSED
            start_on = self.today - timedelta(days=rng.randint(0, 10))
            rows["home_pause"].append((self.ids.take("home_pause"), account_id, start_on,
                                       start_on + timedelta(days=rng.randint(7, 60)), tariff.pause_monthly_fee,
                                       "active", datetime.combine(start_on, datetime.min.time())))
        if status == "active" and not home and rng.random() < 0.04:
            balance, suspended = self.promise(rng, rows, account_id, balance)
            if suspended:
                status = "suspended"
        rows["account"].append((account_id, customer_id, "home" if home else "mobile", status, region, tariff.id,
                                balance, created))
        return account_id

    def history(self, rng: random.Random, rows: dict, account_id: int, tariff, billing_day: int, status: str,
                home: bool) -> int:
        """Services, six months of fees, usage and payments; returns the balance (their sum)."""
        entries: list[tuple] = []  # (amount, kind, key, (text, params), moment)
        add = entries.append
        days, months = self.days, self.months
        charged = [0] * len(months)
        add((int(rng.random() * 500) * 100, "adjustment", f"scale:{account_id}:opening", self.brought_forward,
             self.start_moment))
        periods = self.periods[billing_day][:2] if status == "terminated" else self.periods[billing_day]
        fee, text, suffix = tariff.monthly_fee, tariff.fee_text, f"{account_id}:tariff"
        for i in periods:
            prefix, moment, month = days[i]
            add((-fee, "tariff_fee", prefix + suffix, text, moment))
            charged[month] += fee
        # Services: a few compatible ones, some ended; a daily fee only on lines that stay active.
        compatible = self.catalog.compatible[tariff.id]
        taken: list = []
        for service in rng.sample(compatible, k=min(rng.choice((0, 1, 1, 2, 2, 3, 4)), len(compatible))):
            daily = service.daily_fee
            if daily and (status != "active" or rng.random() < 0.5):
                continue
            if any(other.code in service.conflicts for other in taken):
                continue
            taken.append(service)
            since = self.now - timedelta(days=1 + int(rng.random() * (30 if daily else 700)),
                                         minutes=int(rng.random() * 1440))
            until = None
            if not daily and rng.random() < 0.15:
                until = since + timedelta(days=1 + int(rng.random() * 120))
                if until >= self.now:
                    until = None
            subscription_id = self.ids.take("subscription")
            rows["subscription"].append((subscription_id, account_id, service.id, "ended" if until else "active",
                                         since, until))
            first = (since.date() - self.start).days  # the day it was connected, in the history's days
            if service.connection_fee and first >= 0:
                add((-service.connection_fee, "service_fee", f"scale:{account_id}:connect:{subscription_id}",
                     service.connect_text, since))
                charged[self.month_of[since.year, since.month]] += service.connection_fee
            if service.monthly_fee:
                suffix, text, fee = f"sub:{subscription_id}", service.monthly_text, service.monthly_fee
                for i in periods:
                    prefix, moment, month = days[i]
                    if first < i and (until is None or until > moment):
                        add((-fee, "service_fee", prefix + suffix, text, moment))
                        charged[month] += fee
            if daily:
                suffix, text = f"day:{subscription_id}", service.daily_text
                for prefix, moment, month in days[max(first + 1, 0):]:
                    add((-daily, "service_fee", prefix + suffix, text, moment))
                    charged[month] += daily
        if status != "terminated":
            for month, cost in enumerate(self.usage(rng, rows, account_id, home)):
                if cost:
                    add((-cost, "usage", f"scale:{account_id}:usage:{self.month_keys[month]}", self.usage_texts[month],
                         self.month_ends[month]))
                    charged[month] += cost
            start, end = _current_period(billing_day, self.today)
            used = rng.random()
            rows["allowance"].append((
                self.ids.take("allowance"), account_id, datetime.combine(start, datetime.min.time()),
                datetime.combine(end, datetime.min.time()), tariff.minutes, int(tariff.minutes * (1 - used)),
                tariff.sms, int(tariff.sms * (1 - used * 0.5)), tariff.mms, tariff.mms,
                tariff.data_mb, int(tariff.data_mb * (1 - used))))
            # Top-ups: most months enough for the month's charges and a little more; a few customers forget.
            text = self.catalog.card_text(f"{int(rng.random() * 1000) * 7 % 10000:04d}") if rng.random() < 0.7 \
                else self.catalog.terminal_text
            for month, start in enumerate(months):
                if rng.random() < 0.9:
                    amount = math.ceil((charged[month] + rng.random() * 30_000) / 10_000) * 10_000
                    moment = datetime.combine(start, datetime.min.time()) + timedelta(
                        days=int(rng.random() * 28), hours=7 + int(rng.random() * 16), minutes=int(rng.random() * 60))
                    if moment < self.now:
                        add((amount, "card_topup", f"scale:{account_id}:pay:{self.month_keys[month]}", text, moment))
        ledger_rows = rows["ledger_entry"]
        next_id = self.ids.next["ledger_entry"]
        balance = 0
        for n, (amount, kind, key, (description, params), moment) in enumerate(entries, next_id):
            ledger_rows.append((n, account_id, amount, kind, key, description, params, moment))
            balance += amount
        self.ids.next["ledger_entry"] = next_id + len(entries)
        return balance

    def usage(self, rng: random.Random, rows: dict, account_id: int, home: bool) -> list[int]:
        """Call details over the six months; returns the cost outside the package per month."""
        out = rows["usage_record"]
        costs = [0] * len(self.months)
        count = max(0, int(rng.gauss(self.usage_per_account, self.usage_per_account / 3)))
        span = (self.now - self.usage_start).total_seconds()
        start, random_, month_of = self.usage_start, rng.random, self.month_of
        next_id = self.ids.next["usage_record"]
        self.ids.next["usage_record"] = next_id + count
        for n in range(next_id, next_id + count):
            started = start + timedelta(seconds=int(random_() * span))
            if home:
                out.append((n, account_id, started, "data", "internet", 10_000 + int(random_() * 4_000_000), 0,
                            started + timedelta(seconds=600 + int(random_() * 21_000)),
                            f"10.{int(random_() * 256)}.{int(random_() * 256)}.{1 + int(random_() * 254)}"))
                continue
            kind = USAGE_KINDS[int(random_() * len(USAGE_KINDS))]
            cost = 0
            if kind == "data":
                counterpart, quantity = "internet", 50 + int(random_() * 300_000)
            elif kind == "sms" or kind == "mms":
                counterpart, quantity = f"+79{int(random_() * 1e9):09d}", 1
                if random_() < 0.05:
                    cost = 200
            else:
                counterpart = f"+79{int(random_() * 1e9):09d}" if random_() < 0.9 \
                    else f"+7495{int(random_() * 1e7):07d}"
                quantity = 0 if kind == "call_missed" else int(rng.expovariate(1 / 120)) + 3
                if kind == "call_out" and random_() < 0.04:
                    cost = 250 * (quantity // 60 + 1)
            out.append((n, account_id, started, kind, counterpart, quantity, cost, None, None))
            if cost:
                costs[month_of[started.year, started.month]] += cost
        return costs

    def promise(self, rng: random.Random, rows: dict, account_id: int, balance: int) -> tuple[int, bool]:
        """A promised payment: open, due today or later, or overdue (the account suspended); the new balance."""
        overdue = rng.random() < 0.3
        days = rng.randint(4, 10) if overdue else rng.randint(0, 3)
        created = self.now - timedelta(days=days, hours=rng.randint(1, 8))
        amount = rng.choice((10_000, 20_000, 30_000, 50_000))
        fee = 1000 if amount > 10_000 else 0
        key = f"scale-{account_id}"
        rows["promised_payment"].append((self.ids.take("promised_payment"), account_id, amount, fee, 0,
                                         "overdue" if overdue else "open", key, created,
                                         created + timedelta(days=3)))
        for amount_, kind, entry_key, text in (
                (amount, "promised_credit", f"promised:{key}", _l("Promised payment")),
                (-fee, "service_fee", f"promised:{key}:fee", _l("Promised payment fee"))):
            if amount_:
                stored = self.catalog.cached(text)
                rows["ledger_entry"].append((self.ids.take("ledger_entry"), account_id, amount_, kind, entry_key,
                                             stored[0], stored[1], created))
                balance += amount_
        return balance, overdue

    def login(self, rng: random.Random, rows: dict, account_ids: list[int], since: datetime) -> None:
        """The customer's personal account (no password: the SMS one signs in) managing all their accounts;
        some with a saved card and an auto-payment rule."""
        login_id = self.ids.take("login")
        created = since + timedelta(days=rng.randint(0, 60))
        rows["login"].append((login_id, account_ids[0], False, True, created))
        rows["login_account"].extend((login_id, account_id, created) for account_id in account_ids)
        if rng.random() < 0.25:
            card_id = self.ids.take("card_token")
            rows["card_token"].append((card_id, login_id, f"tok_scale_{self.seed}_{card_id}",
                                       f"{rng.randrange(10000):04d}",
                                       f"{rng.randint(1, 12):02d}/{(self.today.year + rng.randint(1, 4)) % 100:02d}",
                                       created))
            monthly = rng.random() < 0.3
            rows["auto_payment"].append((self.ids.take("auto_payment"), account_ids[0], login_id, card_id,
                                         "monthly" if monthly else "threshold", None if monthly else 10_000,
                                         rng.randint(1, 28) if monthly else None,
                                         rng.choice((30_000, 50_000, 100_000)), True, 0, created))


# ---- writing ------------------------------------------------------------------------------------------------------


class PostgresWriter:
    """COPY into the tables with their foreign keys and secondary indexes dropped; rebuilt by ``finish``."""

    def __init__(self, connection):
        self.conn = connection  # SQLAlchemy connection inside the one transaction
        self.raw = connection.connection.driver_connection
        self.rebuild: list[str] = []

    def start(self) -> None:
        tables = list(COLUMNS)
        run = self.conn.exec_driver_sql
        fks = run("select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint "
                  "where contype = 'f' and conrelid::regclass::text = any(%(t)s)", {"t": tables}).all()
        uniques = run("select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint "
                      "where contype = 'u' and conrelid::regclass::text = any(%(t)s)", {"t": list(BIG)}).all()
        indexes = run("select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i "
                      "where i.indrelid::regclass::text = any(%(t)s) and not i.indisprimary and not exists "
                      "(select 1 from pg_constraint c where c.conindid = i.indexrelid)", {"t": tables}).all()
        for table, name, definition in fks + uniques:
            run(f'alter table {table} drop constraint "{name}"')
        for name, _ in indexes:
            run(f"drop index {name}")
        # Indexes first (the unique ones included), then the foreign keys: each is checked in one pass.
        self.rebuild = ([f'alter table {t} add constraint "{n}" {d}' for t, n, d in uniques]
                        + [definition for _, definition in indexes]
                        + [f'alter table {t} add constraint "{n}" {d}' for t, n, d in fks])

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        with self.raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        self.conn.exec_driver_sql("set local maintenance_work_mem = '512MB'")
        for statement_ in self.rebuild:
            self.conn.exec_driver_sql(statement_)
        for table in COLUMNS:
            if "id" in COLUMNS[table]:
                self.conn.exec_driver_sql(f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                                          f"coalesce((select max(id) from {table}), 1))")


class SqliteWriter:
    """executemany through SQLAlchemy (types converted as the models do); small databases only."""

    def __init__(self, connection):
        self.conn = connection
        self.tables = db.metadata.tables

    def start(self) -> None:
        pass

    def write(self, table: str, rows: list[tuple]) -> None:
        if rows:
            columns = COLUMNS[table]
            values = [dict(zip(columns, row)) for row in rows]
            if table == "ledger_entry":  # params arrive as JSON text; the JSON type wants the value
                for value in values:
                    value["params"] = json.loads(value["params"]) if value["params"] else None
            self.conn.execute(self.tables[table].insert(), values)

    def finish(self) -> None:
        pass


def seed(app, *, accounts: int, seed_value: int = 1, usage_per_account: int = 20, today: date | None = None,
         vacuum: bool = True, out=print) -> Counter:
    """Build the database of ``app``; returns the rows written per table."""
    today = today or utcnow().date()
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        out(f"schema (migrations) ready in {time.perf_counter() - started:.1f} s")
        session = db.session
        have = session.scalar(sa.select(sa.func.count()).select_from(Account))
        if have:
            raise SystemExit(f"The database holds {have} accounts already: use an empty one, or --reset.")
        demo.seed_catalog(session)
        session.commit()
        tariffs = {t.code: t for t in session.scalars(sa.select(Tariff))}
        services = {s.code: s for s in session.scalars(sa.select(Service).options(selectinload(Service.tariffs)))}
        catalog = Catalog(tariffs, services)
        ids = Ids({table: 1 + (session.scalar(sa.text(f"select coalesce(max(id), 0) from {table}")) or 0)
                   for table in COLUMNS if "id" in COLUMNS[table]})
        # Detached, the catalog never reloads (the load's locks would block it); the session holds no lock.
        session.expunge_all()
        session.commit()
        generator = Generator(catalog, ids, seed=seed_value, today=today, usage_per_account=usage_per_account)
        counts: Counter = Counter()
        load_started = time.perf_counter()
        with db.engine.begin() as conn:
            writer = PostgresWriter(conn) if conn.dialect.name == "postgresql" else SqliteWriter(conn)
            writer.start()
            for number, first in enumerate(range(0, accounts, CHUNK)):
                rows = generator.chunk(number, min(CHUNK, accounts - first))
                for table in ORDER:
                    writer.write(table, rows[table])
                    counts[table] += len(rows[table])
                if (number + 1) % 20 == 0:
                    out(f"  {first + CHUNK:,} accounts, {sum(counts.values()):,} rows, "
                        f"{time.perf_counter() - load_started:.0f} s")
            loaded = time.perf_counter()
            out(f"rows generated and loaded in {loaded - load_started:.1f} s")
            writer.finish()
            out(f"indexes and foreign keys built (every reference checked) in {time.perf_counter() - loaded:.1f} s")
        if vacuum and db.engine.dialect.name == "postgresql":
            vacuumed = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("vacuum analyze")
            out(f"vacuum analyze in {time.perf_counter() - vacuumed:.1f} s")
        total = time.perf_counter() - started
        out(f"{accounts:,} accounts seeded in {total:.1f} s ({accounts / total:,.0f} accounts/s); rows per table:")
        for table in ORDER:
            out(f"  {table:<17} {counts[table]:>12,}")
        out(f"  {'total':<17} {sum(counts.values()):>12,}")
        checked = time.perf_counter()
        mismatches = ledger.verify(session)
        session.rollback()
        out(f"ledger.verify (flask billing verify): {len(mismatches)} balances differ from their entries "
            f"({time.perf_counter() - checked:.1f} s)")
        if mismatches:
            raise SystemExit(1)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--usage-per-account", type=int, default=20, help="usage records per account (mean)")
    parser.add_argument("--today", type=date.fromisoformat, help="the day the history runs up to (default: today)")
    parser.add_argument("--reset", action="store_true", help="drop the PostgreSQL database's public schema first")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE at the end")
    args = parser.parse_args(argv)
    if args.url.startswith("postgresql"):
        postgres_database(args.url, empty=args.reset)
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": args.url, "REDIS_URL": None})
    seed(app, accounts=args.accounts, seed_value=args.seed, usage_per_account=args.usage_per_account,
         today=args.today, vacuum=not args.no_vacuum)


if __name__ == "__main__":
    main()
