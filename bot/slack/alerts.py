"""Alerts into Slack channels: rendered like every reply, posted and updated through the same Delivery."""

from bot.render.blocks import to_message
from bot.results import Result
from bot.slack.delivery import Delivery


class ChannelAlerts:
    """The AlertDelivery of bot/alerts/alerter.py (and the UpdatesDelivery of bot/alerts/update_checks.py):
    chat.postMessage for a new alert, chat.update for its repeats."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery

    def post(self, channel: str, alert: Result) -> str | None:
        return self.delivery.post_in(channel, to_message(alert).payload())

    def update(self, channel: str, ts: str, alert: Result) -> bool:
        return self.delivery.update_in(channel, ts, to_message(alert).payload())
