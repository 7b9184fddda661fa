"""Fixtures of the SMS tests: the SMSC simulator for the smpp gateway."""

from tests.sms.smsc import smsc

__all__ = ["smsc"]
