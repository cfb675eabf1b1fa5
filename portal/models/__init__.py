"""All models, imported here so metadata and Alembic see every table."""
from portal.models.alerts import AlertSettings, HeldAlert
from portal.models.audit import AuditEvent
from portal.models.auth import (
    Challenge,
    Login,
    LoginAccount,
    LoginSession,
    LoginThrottle,
    PasswordRequest,
    Staff,
    StaffSession,
)
from portal.models.base import Base, utcnow
from portal.models.bonus import BonusAccount, BonusEntry, Reward
from portal.models.catalog import Allowance, Service, Subscription, Tariff
from portal.models.content import CodeWord, ContentBan, ContentRefusal
from portal.models.customers import Account, AccountKind, AccountStatus, Customer, HomeContract, Line
from portal.models.details import DetailOrder
from portal.models.dev_provider import DevMethod, DevPayment
from portal.models.documents import DocumentAcceptance, PolicyDocument
from portal.models.feed import FeedToken
from portal.models.home_pause import HomePause, ScheduledTariffChange
from portal.models.home_tv import AntivirusLicence, Mailbox, ParentalPin, StaticIp, TvChannel, tv_package_channel
from portal.models.links import LinkRequest, LinkRequestNumber
from portal.models.locator import LocatorConsent, LocatorLookup
from portal.models.money import LedgerEntry
from portal.models.notices import NoticeSms, ServiceNotice, ServiceNoticeUpdate
from portal.models.passkeys import Passkey
from portal.models.payments import AutoPayment, CardPayment, CardToken
from portal.models.promised import PromisedPayment
from portal.models.requests import ProcessedRequest
from portal.models.simlock import GuardedAction, PortOut, SimLock
from portal.models.sms import SmsMessage, SmsPart, SmsReceipt
from portal.models.social import SocialAccount
from portal.models.support import SavedAnswer, SupportAttachment, SupportMessage, SupportRequest, SupportTopic
from portal.models.switch import BlacklistEntry, ForwardingRule, Melody, RingbackChoice, SwitchCommand
from portal.models.transfers import Transfer
from portal.models.usage import UsageDay, UsageRecord, UsageRollup
from portal.models.voicemail import VoicemailBox, VoiceMessage
from portal.models.vouchers import Voucher
from portal.models.websms import WebSms

__all__ = [
    "Account", "AccountKind", "AccountStatus", "AlertSettings", "Allowance", "AntivirusLicence", "AuditEvent",
    "AutoPayment", "Base", "BlacklistEntry", "BonusAccount", "BonusEntry", "CardPayment", "CardToken", "Challenge",
    "CodeWord", "ContentBan", "ContentRefusal",
    "Customer", "DetailOrder", "DevMethod", "DevPayment", "DocumentAcceptance", "FeedToken", "ForwardingRule",
    "GuardedAction", "HeldAlert",
    "HomeContract", "HomePause",
    "LedgerEntry", "Line",
    "LinkRequest", "LinkRequestNumber", "LocatorConsent", "LocatorLookup",
    "Login", "LoginAccount", "LoginSession", "LoginThrottle", "Mailbox", "Melody",
    "NoticeSms", "PolicyDocument",
    "ParentalPin", "Passkey", "PasswordRequest", "PortOut", "ProcessedRequest", "PromisedPayment", "Reward",
    "RingbackChoice",
    "ScheduledTariffChange", "Service", "SimLock", "ServiceNotice", "ServiceNoticeUpdate",
    "SmsMessage", "SmsPart", "SmsReceipt", "SocialAccount", "Staff", "StaffSession", "StaticIp",
    "SavedAnswer", "Subscription", "SupportAttachment", "SupportMessage", "SupportRequest", "SupportTopic",
    "SwitchCommand", "Tariff", "Transfer", "tv_package_channel", "TvChannel", "UsageDay", "UsageRecord",
    "UsageRollup", "utcnow", "VoicemailBox", "VoiceMessage", "Voucher", "WebSms",
]
