"""Channels beyond Telegram and Twilio: one package per SMS gateway.

Each gateway implements the outbox's ``Sender`` protocol (``bot/outbox/channel.py``) and
hands what it receives (resident SMS, delivery reports) to the runtime as typed events. They
are not wired into ``civic-bot run`` yet: the architecture move (issue #14) gives every
channel its place first, and the composition root then picks one by ``SMS_GATEWAY``.

Why more than Twilio: two-way SMS over international routes does not reliably reach Kyrgyz
subscribers (MegaCom, O!, Beeline). An Android phone with a local SIM (``android``), SMPP to
a local operator or aggregator (``smpp``) or an aggregator's HTTP API (``http_gateway``) do.
"""
