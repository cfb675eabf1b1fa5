from portal.forms import IdempotentForm


class SwitchTariffForm(IdempotentForm):
    """Confirms a switch: the tariff comes from the URL, the key makes a double click harmless."""


class ServiceForm(IdempotentForm):
    """Confirms connecting or disconnecting a service named by the URL."""
