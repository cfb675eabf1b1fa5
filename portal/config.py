"""Configuration defaults.

Layering (docs/architecture.md §7): these defaults → ``instance/config.py`` → environment
(``PORTAL_*``, ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``) → the dict given
to ``create_app`` (tests).  Nothing here reads the environment at import time.
"""
from datetime import timedelta

DEBUG = False
TESTING = False
SECRET_KEY = None

BRAND = "MyOperator"
SUPPORT_PHONE = "0890"  # the support line customers call: the pages' footer and the security SMS say it

SQLALCHEMY_DATABASE_URI = None  # None → SQLite file in the instance folder
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
REDIS_URL = None
# Seconds a web request waits for a row another transaction holds (PostgreSQL lock_timeout) before it answers
# "busy, try again" (503 with Retry-After) instead of hanging until gunicorn kills it; 0: no limit.
DB_LOCK_TIMEOUT = 5

# Sessions: HttpOnly always, Secure when served over https (see create_app).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = timedelta(days=14)
# Enforced from the session rows (issue 14.19): idle = since the last request, absolute = since sign-in.
SESSION_IDLE_LIFETIME = timedelta(days=14)
SESSION_ABSOLUTE_LIFETIME = timedelta(days=30)
STAFF_SESSION_IDLE_LIFETIME = timedelta(minutes=30)
STAFF_SESSION_ABSOLUTE_LIFETIME = timedelta(hours=10)
# Ended session rows are deleted by the cleanup job (`flask sessions clean`, beat hourly) after this long.
SESSION_ROWS_KEPT = timedelta(days=90)
PREFERRED_URL_SCHEME = "http"
# Reverse proxies in front of the portal (nginx, a load balancer): each adds one X-Forwarded-For hop.
# 0: the portal faces the clients itself and ignores X-Forwarded-* (they could be forged).
PROXY_COUNT = 0
# Strict-Transport-Security on https responses, in seconds (0: not sent).
HSTS_MAX_AGE = 31536000

# Request bodies: 1 MB for any form (answered 413 above it); the payment provider's webhook is small JSON.
MAX_CONTENT_LENGTH = 1024 * 1024
PAYMENT_CALLBACK_MAX_BYTES = 64 * 1024

WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
WTF_CSRF_SSL_STRICT = True

BABEL_DEFAULT_LOCALE = "ru"
BABEL_DEFAULT_TIMEZONE = "Europe/Moscow"
LOCALES = ("ru", "en")
PHONE_DEFAULT_REGION = "RU"

# Captcha in front of the SMS password (docs/architecture.md §4).
CAPTCHA_LENGTH = 5
CAPTCHA_TTL = timedelta(minutes=5)
# Honoured only when TESTING is true; create_app refuses to start otherwise.
CAPTCHA_TEST_ANSWER = None

# Temporary (SMS) password.
TEMP_PASSWORD_LENGTH = 8
# NIST SP 800-63B: out-of-band codes live at most 10 minutes. The newest TEMP_PASSWORDS_VALID unexpired
# ones all work (a late SMS after a second request still opens) until one is used; then all end.
TEMP_PASSWORD_TTL = timedelta(minutes=10)
TEMP_PASSWORDS_VALID = 3

# SMS password quotas per number: (count, window in seconds).
SMS_QUOTAS = ((1, 60), (3, 3600), (10, 86400))
# Global breaker: password SMS sent by the whole portal per minute.
SMS_GLOBAL_PER_MINUTE = 600
SMS_BACKEND = "outbox"  # outbox | http | smpp (sent by the `flask sms smpp` process, README "SMS through the SMSC")
SMS_HTTP_URL = None
SMS_HTTP_TOKEN = None
SMS_HTTP_TIMEOUT = 5
SMS_SENDER = None  # None: the brand
SMS_MAX_ATTEMPTS = 5
# Seconds a worker holds a message while it waits for the SMSC (no row lock meanwhile); more than the timeout.
SMS_LEASE = 30
# The operator's SMSC over SMPP 3.4 (SMS_BACKEND = "smpp"): one transceiver bind held by `flask sms smpp`.
SMPP_HOST = "127.0.0.1"
SMPP_PORT = 2775
SMPP_SYSTEM_ID = None
SMPP_PASSWORD = None
SMPP_SYSTEM_TYPE = ""
SMPP_SOURCE_ADDR = None  # None: each message's sender (a customer's number, else SMS_SENDER or the brand)
SMPP_SUBMIT_RATE = 10  # submit_sm per second at most (each part of a long message is one)
SMPP_WINDOW = 10  # submit_sm sent and not yet answered, at most
SMPP_TIMEOUT = 10  # seconds for a connect, a bind or any answer; past it the link is taken as dead
SMPP_ENQUIRE_LINK = 30  # seconds of silence before an enquire_link
SMPP_RECONNECT_MIN = 1  # seconds before the first reconnection; doubles while it fails ...
SMPP_RECONNECT_MAX = 60  # ... up to this
SMPP_THROTTLE_PAUSE = 1  # seconds sending pauses after ESME_RTHROTTLED / ESME_RMSGQFUL; doubles while they repeat
SMPP_RETRY_AFTER = 30  # seconds before a message refused for a passing reason (a system error) is sent again
SMPP_POLL = 1  # seconds between looks for queued messages while there are none
# Seconds the process holds a message it took (if it dies, another takes the message after this).
SMPP_LEASE = 120
# Seconds after which the beat's sweep hands a queued SMS, a pending switch command or detail order to its job
# again (its job was lost with a killed worker or a broker outage).
JOBS_SWEEP_AFTER = 300

# The switch behind forwarding, blacklist, voicemail, ringback tones and blocks (portal.provisioning).
PROVISIONING_BACKEND = "dev"  # dev | http
PROVISIONING_HTTP_URL = None
PROVISIONING_HTTP_TOKEN = None
PROVISIONING_HTTP_TIMEOUT = 10
PROVISIONING_MAX_ATTEMPTS = 5
# Seconds a worker holds a command while it waits for the switch (no row lock meanwhile); more than the timeout.
PROVISIONING_LEASE = 60
# Development backend: commands for these numbers (E.164) are refused, to try "failed, try again".
PROVISIONING_FAIL_NUMBERS = []

# The family locator's network-location gateway (portal.domain.locator.network).
LOCATOR_BACKEND = "dev"  # dev | http
LOCATOR_URL = None
LOCATOR_TOKEN = None
LOCATOR_TIMEOUT = 5  # seconds; the seeker's page waits for it (no database lock is held meanwhile)
# SMS notices of lookups a number gets in 24 hours, at most (every lookup is listed in its holder's account anyway).
LOCATOR_NOTICES_PER_DAY = 3
# Development backend: these numbers (E.164) are "off", to try a failed lookup.
LOCATOR_DEV_UNREACHABLE = []

# Flask-Limiter (per IP and per /24) on the endpoints that cost us or guard secrets.
RATELIMIT_SMS_REQUEST = "10 per hour;30 per day"
RATELIMIT_SMS_REQUEST_NET = "100 per hour"
RATELIMIT_LOGIN = "30 per 10 minutes;200 per day"
RATELIMIT_LOGIN_NET = "300 per hour"
RATELIMIT_STAFF_LOGIN = "10 per 10 minutes;50 per day"
# "Find an operation by its code" (per IP): codes are not guessable, and only one's own numbers are searched anyway.
RATELIMIT_OPERATION_LOOKUP = "20 per 10 minutes;100 per day"
RATELIMIT_FEED = "60 per hour;500 per day"  # per balance-feed key: a widget reads every few minutes
RATELIMIT_FEED_NET = "600 per hour"  # per /24: guessing keys is hopeless anyway (256 bits), this keeps it quiet
FEED_REFRESH_S = 600  # the balance page reloads itself this often
# The portal's address as customers reach it, for links in SMS (the pay link); None: SMS carry no links.
PUBLIC_URL = None
# Passkeys (WebAuthn): the site's domain (RP id) and exact origin. None: from PUBLIC_URL; without it, from the
# request's own address in debug and tests only (a Host header is not trusted in production: passkeys stay off).
PASSKEY_RP_ID = None
PASSKEY_ORIGIN = None
PASSKEY_RECENT_SIGN_IN = timedelta(minutes=15)  # adding a passkey needs a sign-in this fresh
STAFF_PASSKEY_REQUIRED = False  # True: every staff member signs in with password and passkey
PAY_LINK_MAX_AGE_S = 3 * 24 * 3600  # a pay link in an SMS works this long
# Switching the SIM-swap and port-out lock off takes effect this long after the owner asks (issue 18: 24 h).
SIM_LOCK_RELEASE_DELAY_S = 24 * 3600
# The content gateway (portal.gateway): its shared key (None: the endpoint does not exist) and, where set, the
# networks it calls from (CIDRs, comma-separated in PORTAL_CONTENT_GATEWAY_NETS).
CONTENT_GATEWAY_TOKEN = None
CONTENT_GATEWAY_NETS = ()
CONTENT_GATEWAY_MAX_BYTES = 4096
RATELIMIT_CONTENT_GATEWAY = "600 per minute"
RATELIMIT_USSD = "3000 per minute"  # the USSD centre: one sender for every subscriber
RATELIMIT_HEADERS_ENABLED = True
# Said explicitly: Flask-Limiter keeps the last app's value on its shared object otherwise.
RATELIMIT_ENABLED = True
# Redis down (DESIGN.md §7): count in this worker's memory until it answers again, never fail the request.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_SWALLOW_ERRORS = True
# A hung Redis must not hold a web worker: give up on it after this many seconds.
RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}

# Login lock: after this many failures in a row for one identifier from one network (/24 or /56), lock that
# network out of it for a growing delay; the owner elsewhere still signs in (issue 14.15).
LOGIN_MAX_FAILURES = 10
# After this many failures for one identifier from all networks together, its permanent password is locked
# with the same growing delays; an SMS password still opens it.
LOGIN_MAX_FAILURES_ALL_NETWORKS = 50
LOGIN_LOCK_BASE = timedelta(minutes=1)
LOGIN_LOCK_MAX = timedelta(hours=24)
LOGIN_IP_MAX_FAILURES_PER_HOUR = 50

# Operator's own network: header login from these gateways only (IPs or CIDRs).
TRUSTED_GATEWAYS = ()
MSISDN_HEADER = "X-Msisdn"

PASSWORD_MIN_LENGTH = 8

# Card payments through a provider's hosted page (README "Payments").
# "dev": the development provider's page under /dev (debug and tests only; the default there); "yookassa": YooKassa
# (the YOOKASSA_* settings below). Outside debug it must be a real provider: with none set, top-ups by card say
# they are unavailable.
PAYMENT_PROVIDER = None
# The one item of the fiscal receipt (54-FZ) the provider sends on for a top-up; the customer's phone goes with it.
PAYMENT_RECEIPT_ITEM = "Оплата услуг связи"
# Origins of the provider's payment page (e.g. "https://pay.example"): the top-up form is redirected there.
PAYMENT_PAGE_ORIGINS = ()
TOPUP_MIN = 1000  # kopecks: 10 roubles
TOPUP_MAX = 1500000  # kopecks: 15 000 roubles
# Seconds after which a payment still undecided is asked of the provider (`flask payments reconcile`, beat).
PAYMENT_RECONCILE_AFTER = 300
# A page waiting for a payment (СБП: it polls every 3 s) asks the provider at most once per this many seconds
# per payment; in between it shows what the webhook has recorded.
PAYMENT_ASK_EVERY = 5
# The development provider: seconds an СБП QR code stays payable before it expires.
PAYMENT_DEV_SBP_SECONDS = 600
# The receipt's data (54-FZ) goes with every payment when the provider makes the receipts (YooKassa's 54-FZ
# solution): the VAT code of the item (1: без НДС … see the provider's list) and the tax system (1..6; None: the
# shop has only one and the provider knows it). False: the operator fiscalises the payments elsewhere.
PAYMENT_RECEIPTS = True
PAYMENT_VAT_CODE = 1
PAYMENT_TAX_SYSTEM = None
# Webhook senders (CIDRs; PORTAL_PAYMENT_WEBHOOK_ALLOWED_NETS as JSON or comma-separated): a notification from
# elsewhere is answered 403. None: the provider's published ranges (YooKassa's), no check for "dev"; [] no check.
PAYMENT_WEBHOOK_ALLOWED_NETS = None

# YooKassa (PAYMENT_PROVIDER = "yookassa"; README "Payments: YooKassa").
YOOKASSA_SHOP_ID = None
YOOKASSA_SECRET_KEY = None
YOOKASSA_API_URL = "https://api.yookassa.ru/v3"
# Seconds one call to the API may take in all (connecting, the answer, one short wait when it answers 429): a slow
# provider holds a web worker no longer than this.
YOOKASSA_TIMEOUT = 8
# A 429 asking to wait at most this many seconds is waited for once; a longer wait: "not answering, try again".
YOOKASSA_RETRY_WAIT_MAX = 2

# Sign-in with VK ID, Yandex ID or an OpenID Connect provider (README "Sign-in with VK ID or Yandex ID";
# portal/domain/social/providers.py): per provider key ("vk", "yandex", or any other with a discovery_url) its
# client_id and client_secret, and whatever differs from the known defaults. Only providers with a client_id are
# offered. PORTAL_SOCIAL_PROVIDERS takes JSON. In debug mode "Development ID" (/dev/oidc) is added.
SOCIAL_PROVIDERS = {}
SOCIAL_TIMEOUT = 8  # seconds for each call to a provider (discovery, token, keys, user info)
SOCIAL_PENDING_MINUTES = 10  # an unlinked account's offer to link it, while its owner signs in with the number

# Transfers between our numbers (kopecks).
TRANSFER_MIN = 100
TRANSFER_MAX = 500000
TRANSFER_DAY_MAX = 1500000
TRANSFER_FEE = 0
TRANSFER_CODE_ABOVE = 100000  # larger transfers are confirmed with a code sent by SMS
TRANSFER_CODE_ATTEMPTS = 3

# Prepaid cards (vouchers): wrong code/PIN attempts allowed per hour, per login and per IP.
VOUCHER_FAILURES_PER_HOUR = 5
VOUCHER_KEY = None  # the key of the code digests; None: SECRET_KEY (changing it orphans unused vouchers)

# Promised (trust) payment: credit now, repaid from the next top-ups (kopecks, days).
PROMISED_DAYS = {"mobile": 3, "home": 15}
PROMISED_FEE = 2500
PROMISED_FLOOR = -30000  # not available when the balance is below this
# The limit grows with what was paid in over the last 90 days: (paid in at least, limit).
PROMISED_TIERS = ((0, 20000), (30000, 50000), (100000, 100000), (300000, 200000))
AUTOPAY_MAX_FAILURES = 3  # failed auto-payments in a row before the rule turns itself off

# Bonus points: one point per this many kopecks charged (tariff, services, usage), credited by the billing run.
BONUS_KOPECKS_PER_POINT = 1000  # 1 point per 10 roubles
# The billing run bills accounts in batches of this many ids (one transaction and one job each).
BILLING_BATCH_SIZE = 2000
# Outage and works SMS go to the affected accounts in batches of this many (a short transaction each).
NOTICE_SMS_BATCH = 500
BONUS_TRANSFER_MIN = 10

# Several numbers under one login: staff review a link request within this many working days.
LINK_REVIEW_WORKING_DAYS = 2
LINK_MAX_NUMBERS = 10  # numbers in one request
# Public holidays (ISO dates; PORTAL_HOLIDAYS='["2027-01-01", ...]'): not working days for due dates.
HOLIDAYS = [
    "2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09",
    "2026-02-23", "2026-03-09", "2026-05-01", "2026-05-11", "2026-06-12", "2026-11-04", "2026-12-31",
    "2027-01-01", "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07", "2027-01-08", "2027-02-23",
    "2027-03-08", "2027-05-03", "2027-05-10", "2027-06-14", "2027-11-04",
]

# Networks shown by name in the list of signed-in devices: [CIDR, name] pairs, first match wins.
IP_PLACES = [
    ["10.0.0.0/8", "Local network"], ["172.16.0.0/12", "Local network"], ["192.168.0.0/16", "Local network"],
    ["127.0.0.0/8", "This computer"], ["::1/128", "This computer"],
]

# Mobile internet access point, shown in Settings and sent by SMS on request (at most N a day per number).
INTERNET_SETTINGS = {"apn": "internet", "user": "gdata", "password": "gdata"}
INTERNET_SETTINGS_SMS_PER_DAY = 3
# New voicemail PINs sent by SMS to one line a day.
VOICEMAIL_PIN_SMS_PER_DAY = 3
# Numbers one line may have on its blacklist.
BLACKLIST_LIMIT = 300

# ---- Call details (numbers/details) ----
SUPPORT_REQUESTS_PER_DAY = 10  # support requests a login may open a day (portal.domain.support)
SUPPORT_RESPONSE_HOURS = 24  # a request is overdue this long after the customer's last unanswered message
SUPPORT_THREAD_POLL_S = 20  # an open thread asks for news this often (204 while there is none: ~100 bytes)
# Photos and screenshots on support messages (portal.domain.support.attachments): files under this folder (None:
# support_attachments/ in the instance folder), never under static; back it up with the database.
SUPPORT_ATTACHMENTS_DIR = None
SUPPORT_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024  # the file as sent
SUPPORT_ATTACHMENT_MAX_PIXELS = 50_000_000  # width × height: a small PNG may unpack to gigabytes (a "bomb")
# A form with a photo may be this large, so a photo over the limit is refused next to its field (with the text
# kept) rather than by the 413 page; above this, the 413 page.
SUPPORT_UPLOAD_MAX_BODY = 10 * 1024 * 1024
DETAILS_ORDERS_PER_DAY = 10  # e-mail orders per login a day: the address is typed freely, so keep it small
MAIL_BACKEND = "console"  # console (prints the message) | smtp
MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False  # STARTTLS after connecting
MAIL_USE_SSL = False  # SMTP over TLS from the start (port 465)
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_FROM = "no-reply@example.com"
MAIL_TIMEOUT = 30
# Seconds a worker holds a detail order while it builds and mails the file (no row lock meanwhile); > MAIL_TIMEOUT.
DETAILS_MAIL_LEASE = 120
# Calendar months of call-detail records kept (`flask usage prune`, nightly): at least the 6 customers can ask for.
USAGE_RETENTION_MONTHS = 6

# ---- Blocking a number and SMS from the web (issue 5, points 3 and 4) ----
# SMS from the web: at most this many parts per message (a part: 160/153 GSM-7 or 70/67 UCS-2 characters).
WEB_SMS_MAX_PARTS = 6
# Kopecks per part once the tariff's SMS package is used up, for tariffs without their own sms_price.
WEB_SMS_PRICE = 250
# Messages per account, counted in the database (sliding windows): (count, window in seconds).
WEB_SMS_QUOTAS = ((20, 3600), (100, 86400))

# Home extras (issue 8): the mailbox domain and the pool static addresses are given from.
MAILBOX_DOMAIN = "home.example.ru"
STATIC_IP_POOL = "198.51.100.0/28"  # CIDR; the network and broadcast addresses are never given
# New parental PINs by SMS per contact phone a day (counted in the SMS outbox).
PARENTAL_PIN_RESETS_PER_DAY = 3
# Attempts to set or change the parental PIN per login (Flask-Limiter), and wrong old PINs a day per contract
# and per login (counted in the database: a new sign-in does not reset it).
RATELIMIT_PARENTAL_PIN = "5 per 10 minutes;20 per day"
PARENTAL_PIN_FAILURES_PER_DAY = 5
