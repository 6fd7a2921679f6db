"""leadpond: a self-hosted B2B customer data platform and marketing automation system."""

__version__ = "0.1.0"
