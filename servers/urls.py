from __future__ import annotations

from django.urls import path

from servers import access_views, firewall_views, security_views, views

urlpatterns = [
    path("servers/", views.server_list, name="server_list"),
    path("servers/new", views.server_new, name="server_new"),
    path("servers/exec", views.server_exec, name="server_exec"),
    path("servers/updates/check", views.server_updates_checks, name="server_updates_checks"),
    path("servers/<int:server_id>", views.server_detail, name="server_detail"),
    path("servers/<int:server_id>/edit", views.server_edit, name="server_edit"),
    path("servers/<int:server_id>/delete", views.server_delete, name="server_delete"),
    path("servers/<int:server_id>/host-key/fetch", views.host_key_fetch, name="host_key_fetch"),
    path("servers/<int:server_id>/host-key/trust", views.host_key_trust, name="host_key_trust"),
    path("servers/<int:server_id>/check", views.server_check, name="server_check"),
    path("servers/<int:server_id>/bootstrap", views.server_bootstrap, name="server_bootstrap"),
    path(
        "servers/<int:server_id>/firewall", firewall_views.server_firewall, name="server_firewall"
    ),
    path(
        "servers/<int:server_id>/firewall/live",
        firewall_views.server_firewall_live,
        name="server_firewall_live",
    ),
    path(
        "servers/<int:server_id>/firewall/apply",
        firewall_views.server_firewall_apply,
        name="server_firewall_apply",
    ),
    path(
        "servers/<int:server_id>/security", security_views.server_security, name="server_security"
    ),
    path(
        "servers/<int:server_id>/security/ssh",
        security_views.server_ssh_hardening,
        name="server_ssh_hardening",
    ),
    path("servers/<int:server_id>/access", access_views.server_access, name="server_access"),
    path(
        "servers/<int:server_id>/access/sync",
        access_views.server_access_sync,
        name="server_access_sync",
    ),
    path(
        "servers/<int:server_id>/access/<int:access_id>/revoke",
        access_views.server_access_revoke,
        name="server_access_revoke",
    ),
    path("account/ssh-keys", access_views.member_keys, name="member_keys"),
    path(
        "account/ssh-keys/<int:member_key_id>/delete",
        access_views.member_key_delete,
        name="member_key_delete",
    ),
    path("keys/", views.key_list, name="key_list"),
    path("keys/new", views.key_new, name="key_new"),
    path("keys/<uuid:key_id>", views.key_detail, name="key_detail"),
    path("keys/<uuid:key_id>/delete", views.key_delete, name="key_delete"),
]
