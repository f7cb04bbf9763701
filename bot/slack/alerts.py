"""Alerts into Slack channels: rendered like every reply, posted and updated through the same Delivery; an
alert's repeats and its resolution also go into its message's thread, so the channel keeps one line per incident."""

from bot.render.blocks import alert_follow_up, to_message
from bot.results import Alert, Result
from bot.slack.delivery import Delivery


class ChannelAlerts:
    """The AlertDelivery of bot/alerts/alerter.py (and the UpdatesDelivery of bot/alerts/update_checks.py):
    chat.postMessage for a new alert, chat.update for its repeats (and a reply in its thread for an alert's)."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery

    def post(self, channel: str, alert: Result) -> str | None:
        return self.delivery.post_in(channel, to_message(alert).payload())

    def update(self, channel: str, ts: str, alert: Result) -> bool:
        updated = self.delivery.update_in(channel, ts, to_message(alert).payload())
        if isinstance(alert, Alert):  # an updates check redraws its table each period: no thread for that
            self.delivery.reply_in_thread(channel, ts, alert_follow_up(alert).payload())
        return updated
