#!/usr/bin/env bash
# Puts the built console (dist/) on a deployed stack (make console-deploy):
# reads the stack's outputs, writes the runtime config.json the console
# reads (the API's URL, the issuer and the browsers' app client), uploads
# the files to the console's bucket (the hashed assets cached for a year,
# index.html and config.json never), and invalidates those two at
# CloudFront. Needs the AWS CLI v2 with credentials for the stack, as
# docs/auth.md's steps do.
#   STACK=depot AWS_REGION=eu-west-1 console/deploy.sh
# With an external issuer (JwtIssuer), the stack has no app client: give
# the client id the console signs in with (CLIENT_ID=...), and ROLES_CLAIM
# if the stack's RolesClaim is not cognito:groups.
set -euo pipefail
cd "$(dirname "$0")"
STACK=${STACK:-depot}
test -f dist/index.html || { echo "console/deploy.sh: no dist/index.html: make console first" >&2; exit 1; }

output() {
  aws cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
api=$(output ApiUrl)
issuer=$(output Issuer)
bucket=$(output ConsoleBucketName)
distribution=$(output ConsoleDistributionId)
url=$(output ConsoleUrl)
client=${CLIENT_ID:-$(output UserPoolClientId)}
hosted=$(output HostedUiUrl)
if [ -z "$client" ] || [ "$client" = None ]; then
  echo "console/deploy.sh: the stack has no Cognito app client (an external issuer): set CLIENT_ID" >&2
  exit 1
fi
logout=""
if [ -n "$hosted" ] && [ "$hosted" != None ]; then
  logout="$hosted/logout?client_id=$client&logout_uri=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$url")"
fi

config=$(mktemp)
trap 'rm -f "$config"' EXIT
python3 - "$api" "$issuer" "$client" "$logout" "${ROLES_CLAIM:-cognito:groups}" >"$config" <<'PY'
import json, sys
api, issuer, client, logout, roles = sys.argv[1:]
auth = {"mode": "oidc", "authority": issuer, "clientId": client, "scope": "openid email profile"}
if logout:
    auth["logoutUrl"] = logout
print(json.dumps({"apiUrl": api, "auth": auth, "rolesClaim": roles}, indent=2))
PY

aws s3 sync dist/assets "s3://$bucket/assets" --cache-control 'public, max-age=31536000, immutable'
aws s3 cp dist/index.html "s3://$bucket/index.html" --cache-control no-cache --content-type 'text/html; charset=utf-8'
aws s3 cp "$config" "s3://$bucket/config.json" --cache-control no-cache --content-type application/json
aws cloudfront create-invalidation --distribution-id "$distribution" --paths /index.html /config.json / >/dev/null
echo "The console: $url (sign in through $issuer)"
