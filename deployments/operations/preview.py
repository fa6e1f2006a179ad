"""The plan page: the deploy planner's plan for a version, the one the deploy then runs. It
reads names only: no secret or variable value is decrypted for it."""

from __future__ import annotations

from dataclasses import dataclass

from deployments.models import App
from deployments.planner import plan_deploy
from deployments.spec import COMMIT, Image, deploy_spec
from servers.plans import Plan


@dataclass(frozen=True)
class Preview:
    plan: Plan
    nonce: str
    source: str  # for an app built from git: where the commit comes from


def preview(app: App, version: str, nonce: str) -> Preview:
    """For an app built from git, `version` is the branch, tag or commit asked for: the
    panel resolves it when the deploy starts, so the plan names it <commit>."""
    if app.git_url:
        ref = version or app.git_branch
        image = Image(COMMIT, f"{app.image}:{COMMIT}", build_commit=COMMIT)
        source = f"The panel fetches {app.git_url} and resolves {ref} to {COMMIT}."
    else:
        image, source = Image(version, f"{app.image}:{version}"), ""
    return Preview(plan_deploy(deploy_spec(app, image, nonce=nonce)), nonce, source)
