"""One sender per channel and provider, all behind ``channels.senders.base.Sender``."""
