from __future__ import annotations

from django.urls import path

from deployments import (
    accessory_views,
    cleanup_views,
    kamal_views,
    logs,
    upkeep_views,
    views,
    webhook_views,
)
from panel.middleware import WEBHOOK_PREFIX

urlpatterns = [
    path("servers/<int:server_id>/disk", cleanup_views.server_disk, name="server_disk"),
    path("servers/<int:server_id>/updates", upkeep_views.server_updates, name="server_updates"),
    path(
        "servers/<int:server_id>/updates/check",
        upkeep_views.server_updates_check,
        name="server_updates_check",
    ),
    path("servers/<int:server_id>/upgrade", upkeep_views.server_upgrade, name="server_upgrade"),
    path("servers/<int:server_id>/reboot", upkeep_views.server_reboot, name="server_reboot"),
    path(
        "servers/<int:server_id>/upgrade-window",
        upkeep_views.server_upgrade_window,
        name="server_upgrade_window",
    ),
    path(
        "servers/<int:server_id>/disk/schedule",
        cleanup_views.server_cleanup_schedule,
        name="server_cleanup_schedule",
    ),
    path(
        f"{WEBHOOK_PREFIX.strip('/')}/<uuid:webhook_id>",
        webhook_views.webhook_receive,
        name="webhook_receive",
    ),
    path("apps/<uuid:app_id>/webhook", webhook_views.app_webhook, name="app_webhook"),
    path(
        "apps/<uuid:app_id>/webhook/secret",
        webhook_views.app_webhook_secret,
        name="app_webhook_secret",
    ),
    path(
        "apps/<uuid:app_id>/webhook/remove",
        webhook_views.app_webhook_remove,
        name="app_webhook_remove",
    ),
    path("apps/", views.app_list, name="app_list"),
    path("apps/new", views.app_new, name="app_new"),
    path("apps/import/kamal", kamal_views.kamal_import, name="kamal_import"),
    path("apps/<uuid:app_id>/kamal", kamal_views.kamal_export, name="kamal_export"),
    path("apps/<uuid:app_id>", views.app_detail, name="app_detail"),
    path("apps/<uuid:app_id>/edit", views.app_edit, name="app_edit"),
    path("apps/<uuid:app_id>/delete", views.app_delete, name="app_delete"),
    path("apps/<uuid:app_id>/env", views.app_env, name="app_env"),
    path("apps/<uuid:app_id>/env/<uuid:env_id>/delete", views.env_delete, name="env_delete"),
    path("apps/<uuid:app_id>/plan", views.app_plan, name="app_plan"),
    path("apps/<uuid:app_id>/deploy", views.app_deploy, name="app_deploy"),
    path("apps/<uuid:app_id>/redeploy", views.app_redeploy, name="app_redeploy"),
    path("apps/<uuid:app_id>/rollback/<int:release_id>", views.app_rollback, name="app_rollback"),
    path("apps/<uuid:app_id>/stop", views.app_stop_start, {"action": "stop"}, name="app_stop"),
    path("apps/<uuid:app_id>/start", views.app_stop_start, {"action": "start"}, name="app_start"),
    path("apps/<uuid:app_id>/exec", views.app_exec, name="app_exec"),
    path(
        "apps/<uuid:app_id>/roles/<slug:role>/redeploy",
        views.app_role_redeploy,
        name="app_role_redeploy",
    ),
    path("apps/<uuid:app_id>/lock/release", views.app_release_lock, name="app_release_lock"),
    path(
        "apps/<uuid:app_id>/git-host-key/forget",
        views.app_forget_git_host_key,
        name="app_forget_git_host_key",
    ),
    path("apps/<uuid:app_id>/logs/stream", logs.app_logs_stream, name="app_logs_stream"),
    path("accessories/", accessory_views.accessory_list, name="accessory_list"),
    path("accessories/new", accessory_views.accessory_new, name="accessory_new"),
    path(
        "accessories/<uuid:accessory_id>",
        accessory_views.accessory_detail,
        name="accessory_detail",
    ),
    *[
        path(
            f"accessories/<uuid:accessory_id>/{action}",
            accessory_views.accessory_action,
            {"action": action},
            name=f"accessory_{action}",
        )
        for action in ("boot", "reboot", "start", "stop", "restart", "remove")
    ],
    path(
        "accessories/<uuid:accessory_id>/status",
        accessory_views.accessory_status,
        name="accessory_status",
    ),
    path(
        "accessories/<uuid:accessory_id>/link",
        accessory_views.accessory_link,
        name="accessory_link",
    ),
    path(
        "accessories/<uuid:accessory_id>/links/<uuid:link_id>/unlink",
        accessory_views.accessory_unlink,
        name="accessory_unlink",
    ),
    path(
        "accessories/<uuid:accessory_id>/links/<uuid:link_id>/rotate",
        accessory_views.accessory_rotate,
        name="accessory_rotate",
    ),
    path(
        "accessories/<uuid:accessory_id>/files",
        accessory_views.accessory_file,
        name="accessory_file",
    ),
    path(
        "accessories/<uuid:accessory_id>/files/remove",
        accessory_views.accessory_file_remove,
        name="accessory_file_remove",
    ),
    path(
        "accessories/<uuid:accessory_id>/password",
        accessory_views.accessory_password,
        name="accessory_password",
    ),
    path(
        "accessories/<uuid:accessory_id>/exec",
        accessory_views.accessory_exec,
        name="accessory_exec",
    ),
    path(
        "accessories/<uuid:accessory_id>/logs/stream",
        logs.accessory_logs_stream,
        name="accessory_logs_stream",
    ),
]
