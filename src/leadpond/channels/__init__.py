"""Channels: the outbox and its deliverers, templates, consent, and the senders for email, SMS,
WeCom, WeChat and webhooks."""
