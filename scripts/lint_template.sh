#!/usr/bin/env bash
# Lint template.yaml with cfn-lint and `sam validate --lint`; fail on any error or warning.
#
#   bash scripts/lint_template.sh            # uses python3 (or $PYTHON)
#
# Installs cfn-lint and aws-sam-cli with pip into the current Python environment when
# either is missing (use a virtualenv if that environment is shared: aws-sam-cli pins
# boto3/botocore versions that can conflict with other tools, such as awscli v1).
# Needs no AWS credentials and no network once installed: `sam validate --lint` only
# runs the SAM translator and cfn-lint locally; telemetry is switched off for the run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
TEMPLATE="${TEMPLATE:-template.yaml}"

if ! "$PY" -c 'import cfnlint, samcli' >/dev/null 2>&1; then
    echo "lint: installing cfn-lint and aws-sam-cli into $("$PY" -c 'import sys; print(sys.prefix)')"
    "$PY" -m pip install --quiet --disable-pip-version-check cfn-lint aws-sam-cli
fi

status=0

echo "== cfn-lint $("$PY" -c 'import cfnlint.version as v; print(v.__version__)')"
# Exit status is a bit mask: 2 errors, 4 warnings (8 informational, not enabled by default).
set +e
cfn_out="$("$PY" -c 'import sys; from cfnlint.runner import main; sys.argv[0] = "cfn-lint"; sys.exit(main())' \
    "$TEMPLATE" 2>&1)"
cfn_rc=$?
set -e
if [[ $cfn_rc -ne 0 || -n "$cfn_out" ]]; then
    printf '%s\n' "$cfn_out"
    echo "lint: cfn-lint reported findings (exit $cfn_rc)" >&2
    status=1
else
    echo "cfn-lint: no findings"
fi

echo "== sam validate --lint ($("$PY" -m samcli --version 2>/dev/null))"
set +e
sam_out="$(SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true \
    "$PY" -m samcli validate --lint --template "$TEMPLATE" --region us-east-1 2>&1)"
sam_rc=$?
set -e
printf '%s\n' "$sam_out"
if [[ $sam_rc -ne 0 ]] || ! grep -q "is a valid SAM Template" <<<"$sam_out"; then
    echo "lint: sam validate --lint failed (exit $sam_rc)" >&2
    status=1
fi

if [[ $status -eq 0 ]]; then
    echo "lint: template.yaml is clean (cfn-lint and sam validate --lint: no errors, no warnings)"
fi
exit $status
