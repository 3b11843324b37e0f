"""Outbound delivery: channel senders, rate limits and the outbox worker."""
