"""Jinja2 templates for every user-visible text: ``<lang>/<feature>.<channel>.j2``."""
