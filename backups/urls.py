from __future__ import annotations

from django.urls import path

from backups import views

urlpatterns = [
    path("backups/", views.repository_list, name="repository_list"),
    path("backups/repositories/new", views.repository_new, name="repository_new"),
    path("backups/panel", views.panel_backups, name="panel_backups"),
    path("backups/panel/back-up", views.panel_back_up, name="panel_back_up"),
    path(
        "accessories/<uuid:accessory_id>/back-up",
        views.accessory_back_up,
        name="accessory_back_up",
    ),
    path(
        "accessories/<uuid:accessory_id>/backups/<int:backup_id>/scratch",
        views.accessory_scratch,
        name="accessory_scratch",
    ),
    path(
        "accessories/<uuid:accessory_id>/policies",
        views.accessory_policy_new,
        name="accessory_policy_new",
    ),
    path(
        "accessories/<uuid:accessory_id>/policies/<int:policy_id>/delete",
        views.policy_delete,
        name="policy_delete",
    ),
    path(
        "backups/repositories/<uuid:repository_id>",
        views.repository_detail,
        name="repository_detail",
    ),
    path(
        "backups/repositories/<uuid:repository_id>/refresh",
        views.repository_refresh,
        name="repository_refresh",
    ),
    path(
        "backups/repositories/<uuid:repository_id>/check",
        views.repository_check,
        name="repository_check",
    ),
    path(
        "accessories/<uuid:accessory_id>/scratch/<int:copy_id>/promote",
        views.accessory_promote,
        name="accessory_promote",
    ),
    path(
        "accessories/<uuid:accessory_id>/upgrade",
        views.accessory_upgrade,
        name="accessory_upgrade",
    ),
    path(
        "accessories/<uuid:accessory_id>/upgrades/<int:upgrade_id>/revert",
        views.upgrade_revert,
        name="upgrade_revert",
    ),
    path(
        "accessories/<uuid:accessory_id>/upgrades/<int:upgrade_id>/remove-kept",
        views.kept_remove,
        name="kept_remove",
    ),
    path(
        "accessories/<uuid:accessory_id>/backups/<int:backup_id>/files",
        views.backup_files,
        name="backup_files",
    ),
    path(
        "accessories/<uuid:accessory_id>/backups/<int:backup_id>/files/download",
        views.backup_file_download,
        name="backup_file_download",
    ),
    path(
        "accessories/<uuid:accessory_id>/backups/<int:backup_id>/files/restore",
        views.accessory_files_restore,
        name="accessory_files_restore",
    ),
    path(
        "accessories/<uuid:accessory_id>/verify",
        views.accessory_verify,
        name="accessory_verify",
    ),
    path(
        "accessories/<uuid:accessory_id>/scratch/remove",
        views.accessory_scratch_remove,
        name="accessory_scratch_remove",
    ),
]
