"""The ``smpp`` gateway: SMPP 3.4 to an SMSC over one shared transceiver bind per account.

``account`` (config keys), ``text`` (GSM-7 / UCS-2 and long messages), ``status``
(``command_status`` onto the error tree), ``client`` (smpplib's client, vendor TLVs), ``bind``
(one bind and its keep-alive), ``pool`` (one bind per account per process), ``gateway`` (the
definition and its transport).
"""
