#!/bin/sh
# Validates the deployment files without a container engine or a cluster:
# every YAML file must parse, Kubernetes objects must carry their required
# fields, and the compose file must pass `docker compose config` when a
# compose CLI is installed (it needs no running engine).
# Run from anywhere; exits non-zero on the first kind of failure found.
set -eu

cd "$(dirname "$0")"

# The first Python that has PyYAML: the one on PATH, else Debian's.
py=""
for candidate in python3 /usr/bin/python3; do
	if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then
		py=$candidate
		break
	fi
done
if [ -z "$py" ]; then
	echo "check.sh: python3 with PyYAML is required (apt-get install python3-yaml)" >&2
	exit 2
fi

"$py" - <<'PY'
import pathlib, sys, yaml

failed = set()
def fail(path, msg):
    failed.add(str(path))
    print(f"{path}: {msg}", file=sys.stderr)

def get(obj, *keys):
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj

def check_pod(path, kind, tmpl):
    spec = get(tmpl, "spec")
    containers = get(spec, "containers")
    if not isinstance(containers, list) or not containers:
        fail(path, f"{kind}: spec.template.spec.containers is empty")
        return
    for c in containers:
        for field in ("name", "image"):
            if not get(c, field):
                fail(path, f"{kind}: a container has no {field}")
    if kind == "Job" and get(spec, "restartPolicy") not in ("Never", "OnFailure"):
        fail(path, "Job: restartPolicy must be Never or OnFailure")

files = sorted(p for p in pathlib.Path(".").rglob("*") if p.suffix in (".yaml", ".yml"))
if not files:
    fail(".", "no YAML files found")
for path in files:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as e:
        fail(path, f"does not parse: {e}")
        continue
    if not docs:
        fail(path, "is empty")
    if path.parts[0] != "k8s":
        if path.name.startswith(("compose", "docker-compose")) and not isinstance(get(docs[0], "services"), dict):
            fail(path, "compose file has no services")
        if str(path) not in failed:
            print(f"ok  {path}")
        continue
    for doc in docs:
        kind = get(doc, "kind")
        if not get(doc, "apiVersion") or not kind:
            fail(path, "a document has no apiVersion or kind")
            continue
        if kind == "Kustomization":
            for r in get(doc, "resources") or []:
                if not (path.parent / r).exists():
                    fail(path, f"resource {r} does not exist")
            continue
        if not get(doc, "metadata", "name"):
            fail(path, f"{kind} has no metadata.name")
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            tmpl = get(doc, "spec", "template")
            if kind != "Job":
                sel = get(doc, "spec", "selector", "matchLabels") or {}
                labels = get(tmpl, "metadata", "labels") or {}
                if not sel or any(labels.get(k) != v for k, v in sel.items()):
                    fail(path, f"{kind}: spec.selector.matchLabels does not match the template's labels")
            check_pod(path, kind, tmpl)
        if kind == "Service" and not get(doc, "spec", "ports"):
            fail(path, "Service has no ports")
    if str(path) not in failed:
        print(f"ok  {path}")
sys.exit(1 if failed else 0)
PY

# The Grafana dashboard must be valid JSON with panels, and the alert rules
# must pass promtool (Debian's prometheus package; .ci/run installs it).
"$py" - <<'PY'
import json, sys
path = "grafana/atsgate.json"
try:
    d = json.load(open(path))
except ValueError as e:
    print(f"{path}: not valid JSON: {e}", file=sys.stderr)
    sys.exit(1)
targets = [t for p in d.get("panels", []) for t in p.get("targets", [])]
if not d.get("title") or not targets or any(not t.get("expr") for t in targets):
    print(f"{path}: needs a title and panels whose every target has an expr", file=sys.stderr)
    sys.exit(1)
print(f"ok  {path} ({len(targets)} queries)")
PY
if command -v promtool >/dev/null 2>&1; then
	promtool check rules prometheus/alerts.yml
elif [ "${CI:-}" = true ]; then
	echo "check.sh: promtool is required under CI (apt-get install prometheus)" >&2
	exit 1
else
	echo "skip prometheus/alerts.yml: promtool is not installed (apt-get install prometheus)"
fi

# The compose CLI resolves anchors, merge keys and depends_on conditions the
# way Docker will; it is optional because CI images rarely carry it.
if docker compose version >/dev/null 2>&1; then
	docker compose -f compose.yaml config -q
	echo "ok  compose.yaml (docker compose config)"
elif command -v docker-compose >/dev/null 2>&1; then
	docker-compose -f compose.yaml config -q
	echo "ok  compose.yaml (docker-compose config)"
else
	echo "skip compose.yaml: no compose CLI installed"
fi
