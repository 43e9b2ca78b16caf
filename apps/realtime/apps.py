from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "apps.realtime"
    label = "realtime"
    verbose_name = "Realtime (websockets)"

    def ready(self) -> None:
        from apps.events.registry import register_sink
        from apps.realtime.fanout import SINK_NAME, fan_out
        from apps.realtime.topics import may_follow_organization, register_topic

        register_sink(SINK_NAME, fan_out)
        register_topic("org", may_follow_organization)
