"""Errors a service raises for bad requests; the message is safe to show to staff."""


class ServiceError(Exception):
    """A request that cannot be carried out; nothing was changed."""
