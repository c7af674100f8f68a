#!/usr/bin/env bash
# The shipped deployment files hold together: every Kubernetes manifest under deploy/k8s/ parses
# (python3-yaml) with kind, apiVersion and metadata.name; the Deployment's probes hit our health
# endpoints on its container port and mount the ConfigMap and the model volume it declares; the
# ConfigMap's serve.json is a config `bimride serve` accepts (checked by the binary itself); the
# nginx config parses (nginx -t); rolling-update.sh refuses bad usage.
#   tests/deploy_manifests_test.sh BUILD/bimride
set -u
BIN="$1"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
W=$(mktemp -d /tmp/deploy_manifests_test.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

/usr/bin/python3 - "$SRC/deploy/k8s" "$W/serve.json" <<'PY' || fail "the Kubernetes manifests"
import glob, os, sys, yaml
docs = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    with open(path) as f:
        for d in yaml.safe_load_all(f):
            assert d and d.get("apiVersion") and d.get("kind") and d["metadata"].get("name"), path
            docs.append(d)
kinds = {(d["kind"], d["metadata"]["name"]): d for d in docs}
dep = kinds[("Deployment", "bimride-serve")]
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
port = {p["name"]: p["containerPort"] for p in c["ports"]}
assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
for probe in ("readinessProbe", "livenessProbe"):
    assert c[probe]["httpGet"]["port"] in port, probe
volumes = {v["name"]: v for v in pod["volumes"]}
for m in c["volumeMounts"]:
    assert m["name"] in volumes, m
cm = kinds[("ConfigMap", volumes["config"]["configMap"]["name"])]
claim = volumes["models"]["persistentVolumeClaim"]["claimName"]
assert ("PersistentVolumeClaim", claim) in kinds, claim
svc = kinds[("Service", "bimride-serve")]
assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
open(sys.argv[2], "w").write(cm["data"]["serve.json"])
print(f"{len(docs)} manifests ok")
PY
# The ConfigMap's config, as the server reads it: its model_repo does not exist here, so the
# start fails at the repository, after the config was accepted.
out=$("$BIN" serve --config "$W/serve.json" --port 0 2>&1 </dev/null)
if [[ $out == *"/models"* && $out != *"serve.json:"* ]]; then :; else fail "serve.json: $out"; fi

mkdir -p "$W/ng/tmp"
cp "$SRC/deploy/nginx/nginx.conf" "$W/ng/"
cp "$SRC/deploy/nginx/listen.conf.example" "$W/ng/listen.conf"
cp "$SRC/deploy/nginx/upstream.conf.example" "$W/ng/upstream.conf"
sed -i 's/0.0.0.0:8501/127.0.0.1:18501/' "$W/ng/listen.conf"
nginx -t -p "$W/ng" -c "$W/ng/nginx.conf" >"$W/nginx-t.txt" 2>&1 || { fail "nginx -t"; cat "$W/nginx-t.txt"; }

R="$SRC/deploy/rolling-update.sh"
"$R" >/dev/null 2>&1; [[ $? == 2 ]] || fail "rolling-update.sh without arguments must exit 2"
msg=$("$R" --restart true nohost 2>&1); [[ $? == 2 && $msg == *"'nohost' is not HOST:PORT"* ]] ||
  fail "rolling-update.sh bad replica: $msg"
msg=$("$R" --drain reload --restart true h:1 2>&1); [[ $? == 2 && $msg == *"needs --upstream"* ]] ||
  fail "rolling-update.sh reload without upstream: $msg"
# A replica that never becomes ready: exit 1, saying so.
msg=$("$R" --restart true --ready-timeout 1 127.0.0.1:1 2>&1); [[ $? == 1 && $msg == *"not ready within 1s"* ]] ||
  fail "rolling-update.sh not ready: $msg"
[[ $fails == 0 ]] && echo PASS || exit 1
