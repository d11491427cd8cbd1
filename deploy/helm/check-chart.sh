#!/usr/bin/env bash
# Lints and renders deploy/helm/berth with Helm's own Go SDK (the PyPI package helm-python-sdk binds its C
# library; no helm binary or cluster needed), and checks what each set of values must give: the single-node
# defaults, values-ha.yaml, and the installations the chart must refuse. Installs into a venv outside the clone
# (~/.cache/berth-tools/helm-venv, or $BERTH_TOOLS/helm-venv).
set -euo pipefail
cd "$(dirname "$0")"
venv="${BERTH_TOOLS:-$HOME/.cache/berth-tools}/helm-venv"
if ! "$venv/bin/python" -c 'import helm_python, yaml' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet helm-python-sdk==0.2.2 pyyaml==6.0.4
fi
exec "$venv/bin/python" - <<'PY'
import sys
import yaml
import helm_python as helm

failures = []
passed = 0
def check(ok, what):
    global passed
    print(("ok   " if ok else "FAIL ") + what)
    if ok:
        passed += 1
    else:
        failures.append(what)

def render(values):
    chart = helm.Chart.load("berth")
    out = chart.render(chart.merge_values(values), name="berth", namespace="registry", is_install=True)
    kinds = {}
    for path, text in out.items():
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                kinds[doc["kind"]] = doc
    return kinds

def refused(values, reason, what):
    try:
        render(values)
        check(False, f"{what}: rendered, should be refused")
    except Exception as e:
        check(reason in str(e), f"{what}: refused ({str(e).split('): ', 1)[-1][:100]}...)")

ha = yaml.safe_load(open("berth/values-ha.yaml"))
for values, what in [({}, "defaults"), ({**ha, "existingSecret": "s"}, "values-ha.yaml")]:
    report = helm.lint("berth", values, strict=True)
    errors = [m["error"] for m in report.get("messages", []) if m["severity"] >= 2] + report.get("errors", [])
    check(not errors, f"helm lint --strict, {what}: {errors or 'clean'}")

one = render({})
pod = one["Deployment"]["spec"]["template"]["spec"]
c = pod["containers"][0]
check(one["Deployment"]["spec"]["replicas"] == 1, "defaults: one replica")
check(one["Deployment"]["spec"]["strategy"]["type"] == "Recreate", "defaults: Recreate (one writer on the volume)")
check("PersistentVolumeClaim" in one, "defaults: a PersistentVolumeClaim")
check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness is /readyz")
check(c["livenessProbe"]["httpGet"]["path"] == "/api/v2.0/ping", "liveness is /api/v2.0/ping")
check(pod["securityContext"]["runAsUser"] == 65532 and c["securityContext"]["readOnlyRootFilesystem"],
      "non-root, read-only root filesystem")

two = render({**ha, "existingSecret": "berth-secrets"})
env = {e["name"]: e.get("value") for e in two["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]}
check(two["Deployment"]["spec"]["replicas"] == 2, "values-ha.yaml: two replicas")
check("PersistentVolumeClaim" not in two and "Secret" not in two, "values-ha.yaml + existingSecret: no PVC, no chart Secret")
check(env.get("BERTH_STORAGE__KIND") == "s3" and env.get("BERTH_STORAGE__S3__PATH_STYLE") == "true", "values-ha.yaml: S3 settings")
check("PodDisruptionBudget" in two and "Ingress" in two, "values-ha.yaml: PodDisruptionBudget and Ingress")
own = render({**ha, "database": {"url": "postgres://u:p@db:5432/berth"}, "secretKey": "a" * 64})
check(sorted(own["Secret"]["stringData"]) == ["BERTH_DATABASE_URL", "BERTH_SECRET_KEY"], "values-ha.yaml + values: the chart's Secret")

refused({"replicaCount": 2}, "persistence.enabled=true", "two replicas with the volume")
refused({"replicaCount": 2, "persistence": {"enabled": False}}, "storage.kind", "two replicas on filesystem storage")
refused(ha, "postgres://", "two replicas without PostgreSQL")
refused({**ha, "database": {"url": "postgres://x"}}, "secretKey", "two replicas without secretKey")
refused({"secretKey": "short"}, "64 hex digits", "a malformed secretKey")
refused({"storage": {"kind": "s3"}}, "endpoint", "S3 without an endpoint")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
