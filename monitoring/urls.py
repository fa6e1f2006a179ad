from __future__ import annotations

from django.urls import path

from monitoring import logs, views

urlpatterns = [
    path("servers/<int:server_id>/health", views.server_health, name="server_health"),
    path("servers/<int:server_id>/logs", logs.server_logs, name="server_logs"),
    path("servers/<int:server_id>/interval", views.server_interval, name="server_interval"),
    path("servers/<int:server_id>/logs/stream", logs.server_logs_stream, name="server_logs_stream"),
    path("apps/<uuid:app_id>/resources", views.app_resources, name="app_resources"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:alert_id>/acknowledge", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_id>/silence", views.alert_silence, name="alert_silence"),
    path("alerts/channels", views.channel_list, name="channel_list"),
    path("alerts/rules", views.rule_list, name="rule_list"),
    path("alerts/rules/<int:rule_id>/remove", views.rule_remove, name="rule_remove"),
    path("alerts/uptime", views.uptime_list, name="uptime_list"),
    path("alerts/uptime/<uuid:check_id>/remove", views.uptime_remove, name="uptime_remove"),
    path("alerts/channels/<uuid:channel_id>/test", views.channel_test, name="channel_test"),
    path("alerts/channels/<uuid:channel_id>/remove", views.channel_remove, name="channel_remove"),
]
