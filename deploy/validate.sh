#!/usr/bin/env bash
# Offline checks of the deployment files (run by .ci/run): every Kubernetes manifest against the
# schemas bundled in kubernetes-validate (strict: unknown fields fail), the kustomization's resource
# list, and the compose and collector files' structure. Installs its tools into a venv under
# target/ on first use (PyPI only; no cluster and no Docker engine needed).
set -euo pipefail
cd "$(dirname "$0")"
venv=../target/deploy-venv
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==1.37.0" "pyyaml>=6"
fi
manifests=$(ls kubernetes/*.yaml | grep -v kustomization.yaml)
echo "kubernetes-validate (strict, Kubernetes 1.37): $(echo $manifests | wc -w) files"
"$venv/bin/kubernetes-validate" --strict --quiet $manifests
"$venv/bin/python" - <<'PY'
import pathlib, sys, yaml

def load(path):
    with open(path) as f:
        return yaml.safe_load(f)

kustomization = load("kubernetes/kustomization.yaml")
listed = set(kustomization["resources"])
present = {p.name for p in pathlib.Path("kubernetes").glob("*.yaml")} - {"kustomization.yaml"}
if listed != present:
    sys.exit(f"kustomization.yaml lists {sorted(listed)} but the folder has {sorted(present)}")

compose = load("compose.yaml")
expected = {"postgres", "jaeger", "otel-collector", "migrate", "aggregator", "police", "health", "justice"}
missing = expected - set(compose["services"])
if missing:
    sys.exit(f"compose.yaml lacks services {sorted(missing)}")
for name in ["aggregator", "police", "health", "justice"]:
    service = compose["services"][name]
    if "healthcheck" not in service or "environment" not in service:
        sys.exit(f"compose service {name} needs a healthcheck and its environment")

collector = load("otel-collector.yaml")
if "traces" not in collector["service"]["pipelines"]:
    sys.exit("otel-collector.yaml has no traces pipeline")
print("kustomization, compose.yaml and otel-collector.yaml: ok")
PY
