"""E-mail through AWS SES v2: the message (:mod:`.message`), attachments (:mod:`.attachments`),
raw MIME (:mod:`.mime`) and the boto3 clients with their error mapping (:mod:`wrappers.aws`).

The job function is :func:`tasks.email.send_email`.
"""
