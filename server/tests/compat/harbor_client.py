#!/usr/bin/env python3
"""Drives Berth with harborapi, an independent Harbor API v2.0 client, used unmodified.

Usage: harbor_client.py BASE_URL USER PASSWORD PROJECT/REPOSITORY:TAG

BASE_URL is the server root (``/api/v2.0`` is appended). The image PROJECT/REPOSITORY:TAG must
already be pushed. Creates a project, a user, a member, a robot and a tag, reads everything back;
then sends booleans as swagger-generated clients do (Python's True/False), creates a system robot that
creates a project, sets a CVE allowlist, reads icons and additions, and PUTs back the whole
configuration it read. Exits non-zero with a message naming the failed step.
"""

import asyncio
import sys
import traceback
import uuid

try:
    import httpx
    from harborapi import HarborAsyncClient
    from harborapi.models import (
        Access,
        Configurations,
        CVEAllowlist,
        CVEAllowlistItem,
        ProjectMetadata,
        ProjectReq,
        RobotCreate,
        Label,
        Registry,
        RegistryCredential,
        ReplicationFilter,
        ReplicationPolicy,
        ReplicationTrigger,
        RobotPermission,
        Tag,
        UserCreationReq,
        WebhookPolicy,
        WebhookTargetObject,
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

        step = "booleans"
        print(f"[{step}] query booleans as swagger-generated clients send them (True/False)")
        api_url = f"{base_url.rstrip('/')}/api/v2.0"
        async with httpx.AsyncClient(base_url=api_url, auth=(user, password)) as raw:
            response = await raw.get("/projects", params={"public": str(False), "with_detail": str(True)})
            check(response.status_code == 200, f"public=False: {response.status_code} {response.text}")
            private = [p["name"] for p in response.json()]
            check(project_name in private, f"private projects: {private}")
            response = await raw.get("/projects", params={"public": str(True)})
            public = [p["name"] for p in response.json()]
            check(project_name not in public, f"public projects: {public}")
            response = await raw.get(
                f"/projects/{image_project}/repositories/{repo_name}/artifacts",
                params={"with_tag": str(True), "with_label": str(False), "with_scan_overview": str(False)},
            )
            check(response.status_code == 200, f"with_tag=True: {response.status_code} {response.text}")
            check(response.json()[0]["tags"], f"tags with with_tag=True: {response.json()}")
            response = await raw.get(
                "/users/current/permissions",
                params={"scope": f"/project/{by_name.project_id}", "relative": str(True)},
            )
            resources = {p["resource"] for p in response.json()}
            check("repository" in resources, f"relative=True resources: {resources}")
            response = await raw.get("/projects", params={"public": "maybe"})
            check(response.status_code == 400, f"public=maybe: {response.status_code}")

        step = "system robot"
        robot_name = f"sys-{suffix}"
        print(f"[{step}] create system robot {robot_name} that may create and list projects")
        created = await client.create_robot(
            RobotCreate(
                name=robot_name,
                description="compat system robot",
                level="system",
                duration=30,
                permissions=[
                    RobotPermission(
                        kind="system",
                        namespace="/",
                        access=[
                            Access(resource="project", action="create"),
                            Access(resource="project", action="list"),
                        ],
                    ),
                    RobotPermission(
                        kind="project",
                        namespace="*",
                        access=[Access(resource="repository", action="pull")],
                    ),
                ],
            )
        )
        robot_client = HarborAsyncClient(url=api_url, username=created.name, secret=created.secret)
        robot_project = f"robot-{suffix}"
        await robot_client.create_project(ProjectReq(project_name=robot_project))
        seen = [p.name for p in await robot_client.get_projects()]
        check(robot_project in seen and project_name in seen, f"robot sees: {seen}")
        granted = {
            (p.resource, p.action)
            for p in await robot_client.get_current_user_permissions(scope="/system", relative=True)
        }
        check(granted == {("project", "create"), ("project", "list")}, f"system permissions: {granted}")

        step = "cve allowlist"
        print(f"[{step}] set metadata and a CVE allowlist on {project_name}, read them back")
        await client.update_project(
            project_name,
            ProjectReq(
                metadata=ProjectMetadata(auto_scan="true", reuse_sys_cve_allowlist="false"),
                cve_allowlist=CVEAllowlist(items=[CVEAllowlistItem(cve_id="CVE-2021-44228")]),
            ),
        )
        updated = await client.get_project(project_name)
        check(updated.metadata.auto_scan == "true", f"metadata: {updated.metadata}")
        items = [i.cve_id for i in updated.cve_allowlist.items or []]
        check(items == ["CVE-2021-44228"], f"allowlist: {updated.cve_allowlist}")

        step = "icons and additions"
        print(f"[{step}] read the artifact's icon and its absent additions")
        check(artifact.icon and artifact.icon.startswith("sha256:"), f"icon: {artifact.icon!r}")
        icon = await client.get_icon(artifact.icon)
        check(icon.content_type and icon.content, f"icon: {icon}")
        history = await client.get_artifact_build_history(image_project, repo_name, tag_name)
        check(len(history) >= 1, f"build history: {history}")
        reports = await client.get_artifact_vulnerability_reports(image_project, repo_name, tag_name)
        check(len(reports) == 0, f"an artifact never scanned has no vulnerability report: {reports}")

        step = "configuration"
        print(f"[{step}] PUT back the whole configuration read, with Harbor-only keys")
        config = await client.get_config()
        values = {
            key: item["value"]
            for key, item in config.model_dump(exclude_none=True).items()
            if isinstance(item, dict) and "value" in item
        }
        values.update({"session_timeout": 60, "notification_enable": True, "uaa_verify_cert": False})
        await client.update_config(Configurations(**values))
        info = await client.get_system_info()
        check(info.read_only is False, f"read_only: {info.read_only}")
        health = await client.health_check()
        check(health.status == "healthy", f"health: {health}")

        step = "labels"
        print(f"[{step}] a global label on the image, then the image listed with it")
        location = await client.create_label(Label(name=f"release-{suffix}", color="#48960C", scope="g"))
        label_id = int(location.rsplit("/", 1)[1])
        await client.add_artifact_label(image_project, repo_name, tag_name, Label(id=label_id))
        labelled = await client.get_artifacts(image_project, repo_name, with_label=True)
        names = [label.name for a in labelled for label in (a.labels or [])]
        check(f"release-{suffix}" in names, f"labels: {names}")

        step = "webhooks"
        print(f"[{step}] a webhook policy on {project_name} and the supported events")
        await client.create_webhook_policy(
            project_name,
            WebhookPolicy(
                name="ci",
                enabled=True,
                event_types=["PUSH_ARTIFACT", "REPLICATION"],
                targets=[WebhookTargetObject(type="http", address="http://192.0.2.10/hook")],
            ),
        )
        policies = await client.get_webhook_policies(project_name)
        check([p.name for p in policies] == ["ci"], f"webhook policies: {policies}")
        events = await client.get_webhook_supported_events(project_name)
        kinds = [e.root for e in events.event_type or []]
        check("REPLICATION" in kinds, f"events: {kinds}")

        step = "replication"
        print(f"[{step}] a push-based policy to this server, run, its task and log")
        location = await client.create_registry(
            Registry(
                name=f"self-{suffix}",
                type="docker-registry",
                url=base_url,
                credential=RegistryCredential(type="basic", access_key=user, access_secret=password),
            )
        )
        registry_id = int(location.rsplit("/", 1)[1])
        location = await client.create_replication_policy(
            ReplicationPolicy(
                name=f"loop-{suffix}",
                dest_registry=Registry(id=registry_id),
                dest_namespace=image_project,
                dest_namespace_replace_count=-1,
                filters=[ReplicationFilter(type="name", value=f"{image_project}/**")],
                trigger=ReplicationTrigger(type="manual"),
                enabled=True,
            )
        )
        policy_id = int(location.rsplit("/", 1)[1])
        policies = await client.get_replication_policies(name=f"loop-{suffix}")
        check([p.id for p in policies] == [policy_id], f"replication policies: {policies}")
        location = await client.start_replication(policy_id)
        execution_id = int(location.rsplit("/", 1)[1])
        for _ in range(300):
            execution = await client.get_replication(execution_id)
            if execution.status != "InProgress":
                break
            await asyncio.sleep(0.2)
        check(execution.status == "Succeed", f"execution: {execution}")
        tasks = await client.get_replication_tasks(execution_id)
        check(len(tasks) == 1 and tasks[0].status == "Succeed", f"tasks: {tasks}")
        log = await client.get_replication_task_log(execution_id, tasks[0].id)
        check("manifest(s) put" in log, f"task log: {log!r}")
        executions = await client.get_replications(policy_id=policy_id)
        check([e.id for e in executions] == [execution_id], f"executions: {executions}")

        step = "search, accessories, volumes, permissions"
        print(f"[{step}] the image by its digest, and the rest of the API")
        found = await client.search(artifact.digest[:19])
        repos = [r.repository_name for r in found.repository or []]
        check(f"{image_project}/{repo_name}" in repos, f"search: {found}")
        accessories = await client.get_artifact_accessories(image_project, repo_name, tag_name)
        check(accessories == [], f"accessories: {accessories}")
        volumes = await client.get_system_volume_info()
        check(volumes.storage and volumes.storage[0].total > 0, f"volumes: {volumes}")
        permissions = await client.get_permissions()
        check(permissions.project, f"permissions: {permissions}")
    except Exception as e:
        traceback.print_exc()
        sys.exit(f"FAILED at step {step!r}: {type(e).__name__}: {e}")
    print("OK: harborapi worked against Berth")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
