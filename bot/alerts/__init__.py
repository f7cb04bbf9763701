"""Alerts: a second way in. Engine events -> rules -> claim once -> render -> deliver to a channel.

The watcher (one per engine) turns the engine's event stream into ContainerEvents; the alerter matches them
against the rules of alerts.yml, claims each one in the shared database so one replica posts it, and hands an
`Alert` result to a delivery (bot/slack/alerts.py) that renders it with the same renderers as replies.
"""
