"""One sender per channel and provider, all behind :class:`~leadpond.channels.senders.base.Sender`."""
