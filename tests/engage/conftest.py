"""The forms tests use the root conftest's ``live_url``: the app served by uvicorn on a
loopback port, the public form pages met by a real client."""
