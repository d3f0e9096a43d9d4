"""Rule checks on the deployment files, run offline by validate.sh (and so by CI).

Kubernetes (deploy/kubernetes/*.yaml):
  - every container has resources.requests and resources.limits for cpu and memory;
  - every long-running container has separate liveness and readiness probes; a gRPC probe names the
    health service `liveness` / `readiness` (README, "Health and shutdown") and comes with a
    startupProbe;
  - every image is pinned: a tag other than `latest`, or a digest (and the kustomization's
    newTag is never `latest`);
  - every pod runs as non-root (runAsNonRoot at pod or container level);
  - every Deployment has a PodDisruptionBudget selecting its pods;
  - a default-deny NetworkPolicy (all pods, Ingress and Egress, no rules) exists;
  - TLS between the services: p06-config sets P06_TLS_DIR, every aggregator URL is https://, and a
    gRPC probe asks the container's plaintext health-only port (named `health`, P06_HEALTH_LISTEN),
    never the TLS-only gRPC port (kubelet's gRPC probes speak no TLS).
compose.yaml:
  - every published port is bound to 127.0.0.1;
  - every service has mem_limit and cpus; the project's services drop all capabilities and set
    no-new-privileges; no database URL connects as the superuser `postgres`.

Usage: python rules.py [DEPLOY_DIR]   (default: the folder of this file). Prints every finding as
"file: container NAME: what" and exits 1 if there is any; --self-test checks the rules themselves.
"""

import pathlib
import re
import sys
import tempfile

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
P06_SERVICES = {"migrate", "aggregator", "police", "health", "justice", "web"}


def pod_spec(doc):
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec", {})


def image_pinned(image):
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] not in ("", "latest")


def check_container(where, kind, pod, container):
    found = []
    name = f"{where}: container {container.get('name', '?')}"
    image = container.get("image", "")
    if not image_pinned(image):
        found.append(f"{name}: image {image!r} is not pinned (use the release version or a digest, never :latest)")
    resources = container.get("resources", {})
    for part in ("requests", "limits"):
        for key in ("cpu", "memory"):
            if key not in resources.get(part, {}):
                found.append(f"{name}: no resources.{part}.{key}")
    non_root = container.get("securityContext", {}).get("runAsNonRoot",
                                                         pod.get("securityContext", {}).get("runAsNonRoot"))
    if non_root is not True:
        found.append(f"{name}: runAsNonRoot is not true (pod or container securityContext)")
    if kind in ("Job", "CronJob"):
        return found
    live, ready = container.get("livenessProbe"), container.get("readinessProbe")
    if not live or not ready:
        found.append(f"{name}: needs both a livenessProbe and a readinessProbe")
    elif "grpc" in live or "grpc" in ready:
        health_ports = {p.get("containerPort") for p in container.get("ports", []) if p.get("name") == "health"}
        for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
            port = container.get(probe_name, {}).get("grpc", {}).get("port")
            if port is not None and port not in health_ports:
                found.append(f"{name}: {probe_name} asks port {port}, not the plaintext health port "
                             f"(a port named health; the gRPC port serves TLS only)")
        if live.get("grpc", {}).get("service") != "liveness":
            found.append(f"{name}: livenessProbe must be grpc with service: liveness")
        if ready.get("grpc", {}).get("service") != "readiness":
            found.append(f"{name}: readinessProbe must be grpc with service: readiness")
        if not container.get("startupProbe"):
            found.append(f"{name}: a gRPC service needs a startupProbe")
    elif live == ready:
        found.append(f"{name}: livenessProbe and readinessProbe are identical")
    return found


def selects(selector, labels):
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def check_kubernetes(folder):
    found, deployments, pdbs, default_deny, tls_config = [], [], [], False, None
    for path in sorted(folder.glob("*.yaml")):
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            kind = doc.get("kind")
            where = f"{path.name}: {kind} {doc.get('metadata', {}).get('name', '?')}"
            if kind == "Kustomization":
                for image in doc.get("images", []):
                    if str(image.get("newTag", "")) in ("", "latest") and "digest" not in image:
                        found.append(f"{path.name}: image {image.get('name')}: newTag must be a version, not latest")
            if kind in WORKLOADS:
                pod = pod_spec(doc)
                for container in pod.get("initContainers", []) + pod.get("containers", []):
                    found += check_container(where, kind, pod, container)
            if kind == "Deployment":
                labels = doc["spec"].get("template", {}).get("metadata", {}).get("labels", {})
                deployments.append((where, labels))
            if kind == "ConfigMap" and doc.get("metadata", {}).get("name") == "p06-config":
                tls_config = doc.get("data", {})
            if kind in WORKLOADS:
                for container in pod_spec(doc).get("containers", []):
                    for env in container.get("env", []):
                        if env.get("name") == "P06_AGGREGATOR_URL" and not str(env.get("value", "")).startswith("https://"):
                            found.append(f"{where}: container {container.get('name', '?')}: P06_AGGREGATOR_URL is not https://")
            if kind == "PodDisruptionBudget":
                pdbs.append(doc["spec"].get("selector", {}))
            if kind == "NetworkPolicy":
                spec = doc.get("spec", {})
                if (spec.get("podSelector") == {} and {"Ingress", "Egress"} <= set(spec.get("policyTypes", []))
                        and not spec.get("ingress") and not spec.get("egress")):
                    default_deny = True
    for where, labels in deployments:
        if not any(selects(selector, labels) for selector in pdbs):
            found.append(f"{where}: no PodDisruptionBudget selects its pods")
    if tls_config is not None:
        if not tls_config.get("P06_TLS_DIR"):
            found.append("config.yaml: p06-config: no P06_TLS_DIR (the services must serve TLS only)")
        if not str(tls_config.get("P06_AGGREGATOR_URL", "https://")).startswith("https://"):
            found.append("config.yaml: p06-config: P06_AGGREGATOR_URL is not https://")
    if not default_deny:
        found.append(f"{folder.name}/: no default-deny NetworkPolicy (podSelector {{}}, Ingress and Egress, no rules)")
    return found


def check_compose(path):
    found = []
    with open(path) as f:
        compose = yaml.safe_load(f)
    for name, service in compose.get("services", {}).items():
        where = f"{path.name}: service {name}"
        for port in service.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                found.append(f"{where}: publishes {port}: bind it to 127.0.0.1")
        for key in ("mem_limit", "cpus"):
            if key not in service:
                found.append(f"{where}: no {key}")
        if name in P06_SERVICES:
            if service.get("cap_drop") != ["ALL"]:
                found.append(f"{where}: needs cap_drop: [ALL]")
            if "no-new-privileges:true" not in service.get("security_opt", []):
                found.append(f"{where}: needs security_opt: [no-new-privileges:true]")
            if service.get("read_only") is not True:
                found.append(f"{where}: needs read_only: true")
        url = str(service.get("environment", {}).get("P06_DATABASE_URL", ""))
        if re.match(r"postgres(ql)?://postgres[:@]", url):
            found.append(f"{where}: connects to the database as the superuser postgres")
    return found


def check(deploy):
    return check_kubernetes(deploy / "kubernetes") + check_compose(deploy / "compose.yaml")


BAD_MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: { name: bad }
spec:
  template:
    metadata: { labels: { app: bad } }
    spec:
      containers:
        - name: bad
          image: p06/bad:latest
          env: [{ name: P06_AGGREGATOR_URL, value: "http://aggregator:50051" }]
          livenessProbe: { grpc: { port: 1, service: liveness } }
          readinessProbe: { grpc: { port: 1, service: liveness } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: p06-config }
data: { P06_AGGREGATOR_URL: "http://aggregator:50051" }
"""
BAD_COMPOSE = """
services:
  aggregator:
    ports: ["50051:50051"]
    environment: { P06_DATABASE_URL: "postgres://postgres:p06@db/p06" }
"""
EXPECTED = ["not pinned", "no resources.limits.memory", "runAsNonRoot", "service: readiness", "startupProbe",
            "no PodDisruptionBudget", "no default-deny", "bind it to 127.0.0.1", "no mem_limit", "cap_drop",
            "no-new-privileges", "read_only", "superuser", "not the plaintext health port",
            "P06_AGGREGATOR_URL is not https://", "no P06_TLS_DIR"]


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "kubernetes").mkdir()
        (root / "kubernetes" / "bad.yaml").write_text(BAD_MANIFEST)
        (root / "compose.yaml").write_text(BAD_COMPOSE)
        text = "\n".join(check(root))
        missed = [e for e in EXPECTED if e not in text]
        if missed:
            sys.exit(f"rules.py self-test: missed {missed} in:\n{text}")
        if "bad.yaml: Deployment bad: container bad" not in text:
            sys.exit(f"rules.py self-test: findings do not name file and container:\n{text}")


if __name__ == "__main__":
    self_test()
    deploy = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    findings = check(deploy)
    if findings:
        print("deployment rules FAILED (deploy/rules.py):", file=sys.stderr)
        print("\n".join("  " + f for f in findings), file=sys.stderr)
        sys.exit(1)
    print("deployment rules: ok (limits, separate probes, pinned images, non-root, PDBs, "
          "default-deny NetworkPolicy, TLS and health-port probes, compose loopback ports/limits/capabilities; self-test passed)")
