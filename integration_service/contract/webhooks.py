"""How a webhook is signed, for the MES and for whoever receives one (Standard Webhooks, standardwebhooks.com):

    webhook-id: <the message's id, the same on every attempt: a receiver drops a repeat by it>
    webhook-timestamp: <seconds since the epoch, when this attempt was sent>
    webhook-signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

The secret is `whsec_<base64 key>`, shown once when the endpoint is made or its secret rotated. A receiver
checks the signature with `verify` (or any Standard Webhooks library) and refuses a timestamp far from now."""
import base64
import hashlib
import hmac
import secrets
import time

PREFIX = "whsec_"
TOLERANCE = 300   # seconds a receiver accepts between the timestamp and its clock


class InvalidSignature(Exception):
    pass


def new_secret():
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret):
    return base64.b64decode(secret[len(PREFIX):] if secret.startswith(PREFIX) else secret)


def signature(secret, message_id, timestamp, body):
    """The `webhook-signature` value of a body (bytes)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def headers(secret, message_id, body, now=None):
    timestamp = str(int(now if now is not None else time.time()))
    return {"webhook-id": message_id, "webhook-timestamp": timestamp,
            "webhook-signature": signature(secret, message_id, timestamp, body)}


def verify(secret, received, body, now=None, tolerance=TOLERANCE):
    """Check a received webhook's headers (a mapping, any case) against its body (bytes); InvalidSignature."""
    lower = {k.lower(): v for k, v in received.items()}
    try:
        message_id, timestamp = lower["webhook-id"], lower["webhook-timestamp"]
        offered = lower["webhook-signature"].split()
    except KeyError as missing:
        raise InvalidSignature(f"no {missing.args[0]} header") from None
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        raise InvalidSignature("the timestamp is too far from now")
    expected = signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise InvalidSignature("no signature matches")
    return message_id
