"""The marketer's console: NiceGUI pages and the read models behind them and the REST API."""
