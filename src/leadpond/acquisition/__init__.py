"""Acquisition: tracking links and QR codes that say which channel and campaign brought a visit."""
