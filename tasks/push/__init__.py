"""Push notifications: the message and per-token outcomes (:mod:`.message`, :mod:`.outcome`),
FCM HTTP v1 through pyfcm (:mod:`.fcm`) and APNs over HTTP/2 (:mod:`.apns`, :mod:`.apns_auth`).

The job function is :func:`tasks.push_notification.send_push`.
"""
