"""Notifications: in-app rows and socket pushes, email (delivery, outbox), preferences.

- `service.py`: `stage()` / `push()` and `send()`, fanning out to the channels preferences enable.
- `center.py`: the notification centre as users see it (list, read, delete, preferences).
- `email.py`, `outbox.py`: SMTP delivery and the batched hand-off to the `email` queue.
- `sweeps.py`: what beat runs (resend lost emails, purge expired notifications).
"""
