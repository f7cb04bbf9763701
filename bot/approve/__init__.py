"""Two-person approval: a command an `approvals:` rule covers waits for someone else's yes. `preview.py` says what
it would do, `fingerprint.py` pins the state of its targets, `flow.py` is the request and its clicks."""
