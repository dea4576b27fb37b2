#!/usr/bin/env bash
# Lints the synthesized CloudFormation templates with cfn-lint (PyPI).
# Usage: infra/deploy/lint-templates.sh [PARAMS_FILE...]
#   Without arguments it lints two variants: the example parameters (new VPC, Secrets Manager token) and an
#   existing-VPC + SSM-parameter variant, so both code paths are checked.
# Exit status: non-zero if cfn-lint reports errors (warnings/informational are printed but allowed).
# Env: LIVEAGG_CMD overrides how liveagg is run (default: `npx tsx infra/cli/run.ts`, no build needed;
#      e.g. LIVEAGG_CMD="node bin/liveagg.js" after `npm run build`). CFN_LINT_VERSION pins cfn-lint.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
venv="$root/.cache/cfn-lint-venv"
if [[ ! -x "$venv/bin/cfn-lint" ]]; then
  echo "lint-templates: creating $venv and installing cfn-lint" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "cfn-lint${CFN_LINT_VERSION:+==$CFN_LINT_VERSION}"
fi
"$venv/bin/cfn-lint" --version >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
read -r -a liveagg <<<"${LIVEAGG_CMD:-npx tsx infra/cli/run.ts}"

params=("$@")
if [[ ${#params[@]} -eq 0 ]]; then
  cat >"$work/existing-vpc.yaml" <<'YAML'
stackName: LiveAggregatorsExistingVpc
account: "123456789012"
region: eu-west-1
availabilityZones: [eu-west-1a, eu-west-1b]
network: { vpcId: vpc-0123456789abcdef0, subnetIds: [subnet-0123456789abcdef0, subnet-0123456789abcdef1] }
bucketName: liveagg-checkpoints-example
kafka: { brokers: ["b-1.kafka.internal:9094"], ssl: true }
cassandra: { contactPoints: ["cassandra.internal:9042"], localDataCenter: eu-west-1 }
adminToken: { ssmParameterName: /liveagg/admin-token }
YAML
  params=("" "$work/existing-vpc.yaml")
fi

status=0
i=0
for p in "${params[@]}"; do
  i=$((i + 1))
  out="$work/out-$i"
  args=(deploy synth --out "$out" --json)
  [[ -n "$p" ]] && args+=(--params "$p")
  echo "lint-templates: synthesizing (${p:-example parameters})" >&2
  "${liveagg[@]}" "${args[@]}" >"$work/synth-$i.json"
  mapfile -t templates < <(node -e 'for (const t of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).templates) console.log(t.templateFile)' "$work/synth-$i.json")
  for t in "${templates[@]}"; do
    echo "lint-templates: cfn-lint $(basename "$t")" >&2
    # cfn-lint exit code is a bitmask: 2 = error, 4 = warning, 8 = informational; only errors fail.
    set +e
    "$venv/bin/cfn-lint" --format parseable -- "$t"
    rc=$?
    set -e
    if (((rc & 2) != 0 || (rc & 1) != 0)); then
      echo "lint-templates: errors in $t (exit $rc)" >&2
      status=1
    elif ((rc != 0)); then
      echo "lint-templates: warnings only in $(basename "$t") (exit $rc)" >&2
    fi
  done
done
if ((status == 0)); then echo "lint-templates: OK (no errors)" >&2; fi
exit "$status"
