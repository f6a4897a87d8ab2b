"""Webhooks: signed job events sent to other systems.

endpoints (what a user registers), ssrf (which URLs and addresses may be reached), signing
(Standard Webhooks), outbox (delivery rows staged with the transition they report), client (one
bounded HTTP attempt), sender (claim, attempt, record, retry), sweep (resend what was left pending).
"""
