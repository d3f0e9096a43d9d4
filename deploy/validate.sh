#!/usr/bin/env bash
# Offline checks of the deployment files (run by .ci/run): no key material anywhere under deploy/
# (checked first, after a self-test of the check), every Kubernetes manifest against the schemas
# bundled in kubernetes-validate (strict: unknown fields fail), the kustomization's resource list
# (no Secret among them), and the compose and collector files' structure. Installs its tools into
# a venv under target/ on first use (PyPI only; no cluster and no Docker engine needed).
set -euo pipefail
cd "$(dirname "$0")"

# Key material: a PEM private key, a JWK with a private member "d", or a key whose private half is
# published (services/auth/src/known_public_keys.json: the RFC examples, as JWK values or as PEM
# public keys) fails the check. The markers are assembled at run time so that this file does not
# match itself.
python3 - "$@" <<'PY'
import base64, json, pathlib, re, sys, tempfile

KNOWN = json.loads(pathlib.Path("../services/auth/src/known_public_keys.json").read_text())["keys"]
PEM_PRIVATE = re.compile("-----BEGIN [A-Z0-9 ]*" + "PRIV" + "ATE KEY-----")
JWK_D = re.compile(r"""["']d["']\s*:|^\s*-?\s*d\s*:\s*\S""", re.M)

def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

def spki_b64(entry):
    """The base64 body of the entry's PEM public key (Ed25519 and P-256), or None."""
    if entry["kty"] == "OKP":
        der = bytes.fromhex("302a300506032b6570032100") + b64url(entry["x"])
    elif entry["kty"] == "EC" and entry["crv"] == "P-256":
        der = (bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
               + b"\x04" + b64url(entry["x"]) + b64url(entry["y"]))
    else:
        return None
    return base64.b64encode(der).decode()

NEEDLES = []
for entry in KNOWN:
    for member in ("x", "y", "n", "k"):
        if member in entry:
            NEEDLES.append((entry[member][:40], entry["source"]))
    pem = spki_b64(entry)
    if pem:
        NEEDLES.append((pem, entry["source"] + " (as PEM)"))

def check(paths):
    """Every finding as 'file: what'."""
    findings = []
    for path in paths:
        try:
            text = pathlib.Path(path).read_text(errors="replace")
        except (IsADirectoryError, FileNotFoundError):
            continue
        squashed = re.sub(r"\s", "", text)
        if PEM_PRIVATE.search(text):
            findings.append(f"{path}: a PEM private key")
        if JWK_D.search(text):
            findings.append(f"{path}: a JWK private member \"d\"")
        for needle, source in NEEDLES:
            if needle in squashed:
                findings.append(f"{path}: the {source}, whose private key is published")
    return findings

def self_test():
    """The check must catch each kind of key material, and pass a clean file."""
    rfc8037 = next(e for e in KNOWN if e["kty"] == "OKP")
    pem_body = spki_b64(rfc8037)
    samples = {
        "jwks.json": json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": rfc8037["x"]}]}),
        "secret.yaml": "stringData:\n  key.pem: |\n    -----BEGIN " + "PRIV" + "ATE KEY-----\n    MC4C\n",
        "private.json": '{"kty": "OKP", "crv": "Ed25519", "x": "abc", ' + chr(34) + "d" + chr(34) + ': "abc"}',
        "public.pem": "-----BEGIN PUBLIC KEY-----\n" + pem_body + "\n-----END PUBLIC KEY-----\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in samples.items():
            path = pathlib.Path(tmp, name)
            path.write_text(content)
            if not check([path]):
                sys.exit(f"validate.sh self-test: the key check missed {name}")
        clean = pathlib.Path(tmp, "clean.yaml")
        clean.write_text("kind: ConfigMap\ndata:\n  P06_JWT_KEYS: /etc/p06/keys/jwks.json\n")
        if check([clean]):
            sys.exit(f"validate.sh self-test: the key check refused a clean file: {check([clean])}")

self_test()
files = sorted(p for p in pathlib.Path(".").rglob("*") if p.is_file())
findings = check(files)
if findings:
    print("key material under deploy/ (keys are created by the operator, see deploy/README.md):")
    print("\n".join("  " + f for f in findings))
    sys.exit(1)
print(f"no key material under deploy/: {len(files)} files checked (self-test passed)")
PY

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
for name in sorted(listed):
    with open(f"kubernetes/{name}") as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") == "Secret":
                sys.exit(f"kubernetes/{name}: a Secret; secrets are created by the operator, never applied by the kustomization")

compose = load("compose.yaml")
expected = {"postgres", "jaeger", "otel-collector", "migrate", "aggregator", "police", "health", "justice", "web"}
missing = expected - set(compose["services"])
if missing:
    sys.exit(f"compose.yaml lacks services {sorted(missing)}")
for name in ["aggregator", "police", "health", "justice", "web"]:
    service = compose["services"][name]
    if "healthcheck" not in service or "environment" not in service:
        sys.exit(f"compose service {name} needs a healthcheck and its environment")

for port in compose["services"]["web"].get("ports", []):
    if not str(port).startswith("127.0.0.1:"):
        sys.exit(f"compose service web publishes {port}: bind it to 127.0.0.1 (a proxy with HTTPS serves it)")

collector = load("otel-collector.yaml")
if "traces" not in collector["service"]["pipelines"]:
    sys.exit("otel-collector.yaml has no traces pipeline")
print("kustomization, compose.yaml and otel-collector.yaml: ok")
PY
# The manifest and compose rules (limits, separate probes, pinned images, non-root, PDBs,
# default-deny NetworkPolicy, loopback ports, capabilities): every finding names file and container.
"$venv/bin/python" rules.py
