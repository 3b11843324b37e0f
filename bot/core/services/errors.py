"""The errors a service raises for a request it does not carry out (nothing was changed)."""


class ServiceError(Exception):
    """A request that cannot be carried out; the message is safe to show to staff."""


class Refused(ServiceError):
    """A request refused for a reason the person is told in their language: ``code`` names
    the reason (the template or page text that explains it), ``details`` fill it in (e.g.
    ``at``: when a door opens; ``number``: the option asked for)."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details
