from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from backups import api as backups_api
from deployments.api import accessories as accessories_api
from deployments.api import apps as apps_api
from monitoring import api as monitoring_api
from panel.api import audit as audit_api
from panel.api import jobs as jobs_api
from panel.api import members as members_api
from panel.api import site as api_site
from panel.forms import BaseUrlPasswordResetForm
from panel.views import audit, home, invitations, jobs, team, two_factor
from panel.views import tokens as tokens_views
from servers import api as servers_api

api = api_site.new_api(
    [
        servers_api.router,
        apps_api.router,
        accessories_api.router,
        backups_api.router,
        monitoring_api.router,
        jobs_api.router,
        audit_api.router,
        members_api.router,
    ]
)

urlpatterns = [
    path("up", home.up, name="up"),
    path("", home.dashboard, name="dashboard"),
    path("team/switch", home.switch_team, name="switch_team"),
    path("team/members", team.members, name="members"),
    path("team/members/<int:user_id>", team.member_change, name="member_change"),
    path(
        "team/invitations/<int:invitation_id>/revoke",
        team.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>", invitations.invitation_accept, name="invitation_accept"),
    path("", include("servers.urls")),
    path("", include("deployments.urls")),
    path("", include("backups.urls")),
    path("", include("monitoring.urls")),
    path("", include("runbooks.urls")),
    path("api/v1/", api_site.urls(api)),
    path("account/tokens", tokens_views.token_list, name="token_list"),
    path("account/tokens/<int:token_id>/revoke", tokens_views.token_revoke, name="token_revoke"),
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/<int:job_id>", jobs.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/cancel", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/stream", jobs.job_stream, name="job_stream"),
    path("audit/", audit.audit_list, name="audit_list"),
    path("audit/export.<str:fmt>", audit.audit_export, name="audit_export"),
    path("audit/verify", audit.audit_verify, name="audit_verify"),
    path("login", two_factor.SignInView.as_view(), name="login"),
    path("login/code", two_factor.login_code, name="login_code"),
    path("account/two-factor", two_factor.account_two_factor, name="account_two_factor"),
    path(
        "account/two-factor/codes",
        two_factor.account_recovery_codes,
        name="account_recovery_codes",
    ),
    path(
        "account/two-factor/off", two_factor.account_two_factor_off, name="account_two_factor_off"
    ),
    path("team/two-factor", two_factor.team_two_factor, name="team_two_factor"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset",
        auth_views.PasswordResetView.as_view(form_class=BaseUrlPasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/change", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

handler400 = "panel.views.errors.bad_request"
handler404 = "panel.views.errors.not_found"
handler500 = "panel.views.errors.server_error"
