from portal.forms import IdempotentForm, PortalForm


class SwitchTariffForm(IdempotentForm):
    """Confirms a switch: the tariff comes from the URL, the key makes a double click harmless."""


class ServiceForm(IdempotentForm):
    """Confirms connecting or disconnecting a service named by the URL."""


class CancelChangeForm(PortalForm):
    """Cancels the scheduled tariff change named by the URL."""
