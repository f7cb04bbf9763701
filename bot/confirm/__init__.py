"""Confirmations for destructive commands: which commands ask first and what they ask (`questions`), the signed
tokens their buttons carry (`tokens`), and what a Confirm or Cancel click may do (`clicks`)."""
