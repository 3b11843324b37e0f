"""The one exception a CLI handler raises for bad input."""


class CliError(Exception):
    """Bad input or state: ``main`` prints the message on one line and exits 2."""
