#!/usr/bin/env bash
# cfn-lint on template.yaml as it is (no custom domain), and once more with the optional
# custom-domain parameters given defaults, so the resources behind the HasCustomDomain and
# HasHostedZone conditions are checked too; then the examples' templates.
set -euo pipefail
cd "$(dirname "$0")/.."
LINT=${VENV:-.venv}/bin/cfn-lint
"$LINT" template.yaml
variant=$(mktemp --suffix=.yaml)
trap 'rm -f "$variant"' EXIT
"${VENV:-.venv}/bin/python3" - "$variant" <<'PY'
import re, sys
text = open("template.yaml").read()
values = {
    "CustomDomainName": "auth.example.com",
    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    "HostedZoneId": "Z0123456789ABCDEFGHIJ",
}
for name, value in values.items():
    text, n = re.subn(rf'(\n  {name}:\n    Type: String\n    Default: )""', rf'\g<1>"{value}"', text)
    assert n == 1, f"parameter {name} not found with an empty default"
open(sys.argv[1], "w").write(text)
PY
"$LINT" "$variant"
# The example of another team's HTTP API using tokengate as its JWT issuer.
"$LINT" examples/jwt-authorizer/template.yaml
