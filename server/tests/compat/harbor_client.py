#!/usr/bin/env python3
"""Drives Berth with harborapi, an independent Harbor API v2.0 client, used unmodified.

Usage: harbor_client.py BASE_URL USER PASSWORD PROJECT/REPOSITORY:TAG

BASE_URL is the server root (``/api/v2.0`` is appended). The image PROJECT/REPOSITORY:TAG must
already be pushed. Creates a project, a user, a member, a robot and a tag, reads everything back,
and exits non-zero with a message naming the failed step.
"""

import asyncio
import sys
import traceback
import uuid

try:
    from harborapi import HarborAsyncClient
    from harborapi.models import (
        Access,
        ProjectReq,
        RobotCreate,
        RobotPermission,
        Tag,
        UserCreationReq,
    )
except ImportError as e:
    sys.exit(f"harborapi is not installed ({e}); run scripts/test.sh, which installs it")

GIB = 1024**3
DEVELOPER = 2  # Harbor role ids: 1 projectAdmin, 2 developer, 3 guest, 4 maintainer


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def main(base_url, user, password, image):
    repo_path, tag_name = image.rsplit(":", 1)
    image_project, repo_name = repo_path.split("/", 1)
    sys.stdout.reconfigure(line_buffering=True)
    suffix = uuid.uuid4().hex[:8]
    project_name = f"compat-{suffix}"
    client = HarborAsyncClient(
        url=f"{base_url.rstrip('/')}/api/v2.0", username=user, secret=password
    )

    step = "projects"
    try:
        print(f"[{step}] create {project_name} with a 1 GiB storage limit")
        location = await client.create_project(
            ProjectReq(project_name=project_name, public=False, storage_limit=GIB)
        )
        check(location.endswith(f"/projects/{project_name}"), f"Location header: {location!r}")
        by_name = await client.get_project(project_name)
        check(by_name.name == project_name, f"name: {by_name.name!r}")
        check(isinstance(by_name.project_id, int), f"project_id: {by_name.project_id!r}")
        check(by_name.owner_name == user, f"owner_name: {by_name.owner_name!r}")
        by_id = await client.get_project(by_name.project_id)
        check(by_id.name == project_name, f"by id: name {by_id.name!r}")
        # page_size=1: harborapi follows the Link header to collect every page.
        names = [p.name for p in await client.get_projects(page_size=1)]
        check(project_name in names and image_project in names, f"project list: {names}")
        check(len(names) == len(set(names)), f"pages repeat projects: {names}")

        step = "members"
        member_name = f"dev-{suffix}"
        print(f"[{step}] create user {member_name}, add as developer, list members")
        user_location = await client.create_user(
            UserCreationReq(
                username=member_name,
                email=f"{member_name}@example.com",
                realname="Compat Developer",
                password="Developer123",
            )
        )
        # The user id from the Location header (GET /users/search is not implemented by Berth).
        member_user = await client.get_user(int(user_location.rstrip("/").rsplit("/", 1)[1]))
        check(member_user.username == member_name, f"user: {member_user.username!r}")
        await client.add_project_member_user(project_name, member_name, DEVELOPER)
        members = await client.get_project_members(project_name, page_size=1)
        roles = {m.entity_name: (m.role_id, m.role_name, m.entity_type) for m in members}
        check(roles.get(member_name) == (DEVELOPER, "developer", "u"), f"members: {roles}")
        check(user in roles and roles[user][0] == 1, f"owner should be projectAdmin: {roles}")
        member = next(m for m in members if m.entity_name == member_name)
        fetched = await client.get_project_member(project_name, member.id)
        check(fetched.entity_id == member_user.user_id, f"member: {fetched}")

        step = "robots"
        robot_name = f"ci-{suffix}"
        print(f"[{step}] create project robot {robot_name} with pull/push, read it back, list")
        created = await client.create_robot(
            RobotCreate(
                name=robot_name,
                description="compat robot",
                level="project",
                duration=30,
                permissions=[
                    RobotPermission(
                        kind="project",
                        namespace=project_name,
                        access=[
                            Access(resource="repository", action="pull"),
                            Access(resource="repository", action="push"),
                        ],
                    )
                ],
            )
        )
        check(created.id and created.secret, f"robot created: {created}")
        check(created.name.endswith(robot_name), f"robot name: {created.name!r}")
        robot = await client.get_robot(created.id)
        check(robot.name == created.name and robot.level == "project", f"robot: {robot}")
        perms = robot.permissions or []
        actions = {a.action for p in perms for a in p.access or [] if p.namespace == project_name}
        check(actions == {"pull", "push"}, f"robot permissions: {perms}")
        robots = await client.get_robots(query=f"Level=project,ProjectID={by_name.project_id}")
        check(created.id in [r.id for r in robots], f"robot list: {[r.name for r in robots]}")

        step = "repositories"
        print(f"[{step}] list repositories of {image_project}")
        repos = await client.get_repositories(image_project)
        check(repo_path in [r.name for r in repos], f"repositories: {[r.name for r in repos]}")
        repo = next(r for r in repos if r.name == repo_path)
        check(repo.artifact_count >= 1, f"artifact_count: {repo.artifact_count}")

        step = "artifacts"
        print(f"[{step}] list artifacts of {repo_path} with tags, read {tag_name}")
        artifacts = await client.get_artifacts(image_project, repo_name, with_tag=True)
        tagged = [a for a in artifacts if tag_name in [t.name for t in a.tags or []]]
        check(len(tagged) == 1, f"artifacts: {[(a.digest, a.tags) for a in artifacts]}")
        artifact = await client.get_artifact(image_project, repo_name, tag_name)
        check(artifact.digest == tagged[0].digest, f"artifact digest: {artifact.digest}")
        check(artifact.digest.startswith("sha256:"), f"digest: {artifact.digest!r}")
        check(artifact.size and artifact.size > 0, f"artifact size: {artifact.size}")
        check(artifact.type == "IMAGE", f"artifact type: {artifact.type!r}")

        step = "tags"
        new_tag = f"compat-{suffix}"
        print(f"[{step}] tag {artifact.digest} as {new_tag}, list tags")
        await client.create_artifact_tag(
            image_project, repo_name, artifact.digest, Tag(name=new_tag)
        )
        tags = await client.get_artifact_tags(
            image_project, repo_name, artifact.digest, page_size=1
        )
        tag_names = sorted(t.name for t in tags)
        check({tag_name, new_tag} <= set(tag_names), f"tags: {tag_names}")
        check(len(tag_names) == len(set(tag_names)), f"pages repeat tags: {tag_names}")
        retagged = await client.get_artifact(image_project, repo_name, new_tag)
        check(retagged.digest == artifact.digest, f"{new_tag} -> {retagged.digest}")

        step = "quotas"
        print(f"[{step}] list quotas, read the quota of {project_name}")
        quotas = await client.get_quotas()
        mine = [q for q in quotas if q.ref and q.ref.root.get("name") == project_name]
        check(len(mine) == 1, f"quotas: {[q.ref for q in quotas]}")
        quota = await client.get_quota(mine[0].id)
        check(quota.hard.root.get("storage") == GIB, f"hard: {quota.hard}")
        check(quota.used.root.get("storage") == 0, f"used: {quota.used}")
        check(quota.ref.root.get("id") == by_name.project_id, f"ref: {quota.ref}")
        filtered = await client.get_quotas(reference="project", reference_id=str(by_name.project_id))
        check([q.id for q in filtered] == [quota.id], f"filtered quotas: {filtered}")
        image_quota = [q for q in quotas if q.ref and q.ref.root.get("name") == image_project]
        check(len(image_quota) == 1, f"no quota for {image_project}")
        used = image_quota[0].used.root.get("storage", 0)
        check(used >= artifact.size, f"{image_project} uses {used} < artifact size {artifact.size}")
    except Exception as e:
        traceback.print_exc()
        sys.exit(f"FAILED at step {step!r}: {type(e).__name__}: {e}")
    print("OK: harborapi worked against Berth")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
