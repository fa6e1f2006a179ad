from __future__ import annotations

from django.urls import path

from runbooks import views

urlpatterns = [
    path("runbooks/", views.runbook_list, name="runbook_list"),
    path("runbooks/new", views.runbook_form, name="runbook_new"),
    path("runbooks/<uuid:runbook_id>", views.runbook_detail, name="runbook_detail"),
    path("runbooks/<uuid:runbook_id>/edit", views.runbook_form, name="runbook_edit"),
    path("runbooks/<uuid:runbook_id>/run", views.runbook_run, name="runbook_run"),
    path("runbooks/<uuid:runbook_id>/delete", views.runbook_delete, name="runbook_delete"),
    path("jobs/<int:job_id>/confirm", views.runbook_confirm, name="runbook_confirm"),
]
