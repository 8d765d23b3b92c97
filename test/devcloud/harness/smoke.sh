#!/usr/bin/env bash
# smoke.sh - exercise the devcloud through the real REST APIs with curl + jq
# only.  Every request/response pair is saved to samples/NAME.json
# ({"request": ..., "response": {"status", "headers", "body"}}, tokens
# redacted).  Ends with "N passed, N failed"; exit 1 if anything failed.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SAMPLES="${SMOKE_SAMPLES:-${DEVCLOUD_DIR:-/tmp/devcloud}/samples}"
AUTH_URL="${OS_AUTH_URL:-http://127.0.0.1:5000/v3}"
ADMIN_PASSWORD="${DEVCLOUD_ADMIN_PASSWORD:-devcloud-admin}"
DEMO_PASSWORD="${DEVCLOUD_DEMO_PASSWORD:-devcloud-demo}"
MV="${SMOKE_MICROVERSION:-latest}"       # "2.latest" is rejected (400); OSC resolves it client-side
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
mkdir -p "$SAMPLES"
PASS=0; FAIL=0
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", (b-a)/1e9}'; }
ok()   { PASS=$((PASS + 1)); echo "  ok   $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "  FAIL $*"; }
check() { # check WHAT EXPECTED_STATUS
  if [ "$ST" = "$2" ]; then ok "$1 ($ST)"; else bad "$1: expected $2, got $ST: $(head -c 400 "$TMP/body")"; fi
}

# req NAME METHOD URL [JSON] -> $ST, $TMP/body, $TMP/hdr; sample saved as NAME
TOKEN=""; NOVA="http://unset.invalid"
req() {
  local name="$1" method="$2" url="$3" data="${4:-}"
  local args=(-s -X "$method" -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}'
              -H 'Accept: application/json' -m 60)
  [ -n "$TOKEN" ] && args+=(-H "X-Auth-Token: $TOKEN")
  case "$url" in "$NOVA"*) args+=(-H "X-OpenStack-Nova-API-Version: $MV");; esac
  [ -n "${RAW_FILE:-}" ] && args+=(-H 'Content-Type: application/octet-stream' --data-binary "@$RAW_FILE")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' -d "$data")
  : >"$TMP/body"
  ST=$(curl "${args[@]}" "$url")
  [ -n "$name" ] || return 0
  local body hdrs reqb
  if [ ! -s "$TMP/body" ]; then body=null
  elif jq -e . "$TMP/body" >/dev/null 2>&1; then body=$(cat "$TMP/body")
  else body=$(jq -Rs . <"$TMP/body"); fi
  reqb=${data:-null}
  hdrs=$(tr -d '\r' <"$TMP/hdr" | awk -F': ' 'tolower($1) ~ /^(content-type|location|x-openstack-nova-api-version|openstack-api-version|x-subject-token|x-compute-request-id|x-openstack-request-id|vary)$/ {print $1"\t"$2}' |
         jq -R 'split("\t") | {(.[0]): (if (.[0]|ascii_downcase)=="x-subject-token" then "<redacted>" else .[1] end)}' | jq -s 'add // {}')
  jq -n --arg m "$method" --arg u "$url" --arg mv "$MV" --argjson rb "$reqb" \
        --argjson st "$ST" --argjson h "$hdrs" --argjson b "$body" \
     '{request: {method: $m, url: $u, nova_microversion: (if ($u|test(":8774")) then $mv else null end), body: $rb},
       response: {status: $st, headers: $h, body: $b}}' \
     | sed 's/"password": "[^"]*"/"password": "<redacted>"/' >"$SAMPLES/$name.json"
}
J() { jq -r "$@" "$TMP/body"; }

login() { # login USER PASSWORD PROJECT SAMPLE -> TOKEN, PROJECT_ID, catalog in $TMP/catalog-USER
  TOKEN=""
  req "$4" POST "$AUTH_URL/auth/tokens" "$(jq -nc --arg u "$1" --arg p "$2" --arg pr "$3" \
    '{auth: {identity: {methods: ["password"], password: {user: {name: $u, domain: {id: "default"}, password: $p}}},
             scope: {project: {name: $pr, domain: {id: "default"}}}}}')"
  check "keystone v3 token for $1" 201
  TOKEN=$(tr -d '\r' <"$TMP/hdr" | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}')
  PROJECT_ID=$(J .token.project.id)
  cp "$TMP/body" "$TMP/catalog-$1"
}
# RegionOne's: the catalog also holds RegionTwo (the same services via localhost)
endpoint() { jq -r --arg t "$1" '.token.catalog[] | select(.type==$t) | .endpoints[] | select(.interface=="public" and .region_id=="RegionOne") | .url' "$TMP/catalog-$2"; }

wait_server() { # wait_server ID STATUS [timeout] -> 0 when reached
  local id="$1" want="$2" t="${3:-120}" t0; t0=$(now)
  while :; do
    req "" GET "$NOVA/servers/$id"
    if [ "$want" = GONE ] && [ "$ST" = 404 ]; then return 0; fi
    local s; s=$(J '.server.status // empty' 2>/dev/null)
    [ "$s" = "$want" ] && [ "$(J '.server["OS-EXT-STS:task_state"] // empty')" = "" ] && return 0
    [ "$s" = ERROR ] && { echo "    server $id ERROR: $(J -c .server.fault)"; return 1; }
    [ $(( ($(now) - t0) / 1000000000 )) -lt "$t" ] || { echo "    timeout ($s)"; return 1; }
    sleep 0.2
  done
}

echo "== identity"
TOKEN=""; NOVA="http://unset.invalid"
req keystone-v2.0-token POST "${AUTH_URL%/v3}/v2.0/tokens" \
  "$(jq -nc --arg p "$DEMO_PASSWORD" '{auth: {tenantName: "demo", passwordCredentials: {username: "demo", password: $p}}}')"
echo "  info keystone v2.0 POST /v2.0/tokens -> $ST (removed upstream in Queens)"
login admin "$ADMIN_PASSWORD" admin keystone-token-admin
ADMIN_TOKEN=$TOKEN
login demo "$DEMO_PASSWORD" demo keystone-token-demo
DEMO_TOKEN=$TOKEN; DEMO_PROJECT=$PROJECT_ID
NOVA=$(endpoint compute demo); GLANCE=$(endpoint image demo)
[ -n "$NOVA" ] && ok "compute endpoint from catalog: $NOVA" || bad "no compute endpoint"
[ -n "$GLANCE" ] && ok "image endpoint from catalog: $GLANCE" || bad "no image endpoint"

echo "== versions"
req nova-versions-root GET "${NOVA%/v2.1*}/"
check "GET compute root" 200
echo "  info versions: $(J -c '[.versions[] | {id, status, min_version, version}]')"
req nova-version-v2.1 GET "$NOVA/"
check "GET /v2.1" 200
MAXV=$(J -r .version.version); echo "  info v2.1 microversions: $(J .version.min_version) .. $MAXV"

echo "== flavors / images"
req nova-flavors GET "$NOVA/flavors"; check "GET /flavors" 200
req nova-flavors-detail GET "$NOVA/flavors/detail"; check "GET /flavors/detail" 200
FLAVOR=$(J -r '.flavors[] | select(.name=="m1.tiny") | .id')
req glance-images GET "$GLANCE/v2/images"; check "GET /v2/images" 200
IMAGE=$(J -r '.images[] | select(.name=="cirros-fake") | .id')
req nova-images GET "$NOVA/images" ; echo "  info nova /images proxy (removed at 2.36) -> $ST"
[ -n "$FLAVOR" ] && [ -n "$IMAGE" ] && ok "flavor m1.tiny=$FLAVOR image cirros-fake=$IMAGE" || bad "flavor/image missing"

echo "== boot"
BOOT='{"server": {"name": $n, "imageRef": $i, "flavorRef": $f, "networks": "none",
       "metadata": {"autoscale-group": "web"}, "min_count": $c, "max_count": $c}}'
t0=$(now)
req nova-create-multi POST "$NOVA/servers" "$(jq -nc --arg n smoke-web --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 3 "$BOOT")"
check "POST /servers min_count=max_count=3" 202
req nova-create-multi-reservation-id POST "$NOVA/servers" "$(jq -nc --arg n smoke-resv --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 2 \
   "$BOOT | .server.return_reservation_id = true")"
check "POST /servers min_count=2 return_reservation_id" 202
RESV=$(J -r .reservation_id)
SINGLE=()
for n in 1 2; do
  req "nova-create-single" POST "$NOVA/servers" "$(jq -nc --arg n "smoke-single-$n" --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | del(.server.min_count, .server.max_count)")"
  check "POST /servers single $n" 202
  SINGLE+=("$(J -r .server.id)")
done
req nova-list-by-name GET "$NOVA/servers?name=%5Esmoke-web"
check "GET /servers?name=^smoke-web" 200
MULTI=($(J -r '.servers[].id'))
req nova-list-by-reservation GET "$NOVA/servers/detail?reservation_id=$RESV"
check "GET /servers/detail?reservation_id" 200
RESV_IDS=($(J -r '.servers[].id'))
[ ${#MULTI[@]} = 3 ] && ok "multi-create made 3 servers" || bad "multi-create made ${#MULTI[@]} servers"
[ ${#RESV_IDS[@]} = 2 ] && ok "reservation_id lists 2 servers" || bad "reservation_id lists ${#RESV_IDS[@]}"
ALL=("${MULTI[@]}" "${RESV_IDS[@]}" "${SINGLE[@]}")
for id in "${ALL[@]}"; do
  wait_server "$id" ACTIVE 120 || bad "server $id did not become ACTIVE"
done
echo "  info ${#ALL[@]} servers ACTIVE $(secs "$t0")s after the first POST"
ok "all ${#ALL[@]} servers ACTIVE"
S1=${MULTI[0]}
req nova-server-show GET "$NOVA/servers/$S1"; check "GET /servers/{id}" 200

echo "== list + metadata filter"
req nova-servers-detail GET "$NOVA/servers/detail"; check "GET /servers/detail" 200
WEB=$(J --arg ids "${ALL[*]}" '[.servers[] | select(.metadata["autoscale-group"]=="web") | select(.id as $i | $ids | split(" ") | index($i))] | length')
[ "$WEB" = ${#ALL[@]} ] && ok "client-side metadata filter finds our $WEB web servers" || bad "metadata filter found $WEB of ${#ALL[@]}"
req nova-servers-detail-metadata-query GET "$NOVA/servers/detail?metadata=%7B%22autoscale-group%22%3A%22web%22%7D"
echo "  info GET /servers/detail?metadata={...} -> $ST, $(J '.servers | length' 2>/dev/null) servers (server-side metadata filter not supported; param ignored)"

echo "== metadata items"
req nova-metadata-get GET "$NOVA/servers/$S1/metadata"; check "GET metadata" 200
req nova-metadata-post-merge POST "$NOVA/servers/$S1/metadata" '{"metadata": {"role": "frontend", "autoscale-group": "web"}}'
check "POST metadata (merge)" 200
req nova-metadata-put-key PUT "$NOVA/servers/$S1/metadata/role" '{"meta": {"role": "backend"}}'
check "PUT metadata/role" 200
req nova-metadata-get-key GET "$NOVA/servers/$S1/metadata/role"; check "GET metadata/role" 200
[ "$(J -r .meta.role)" = backend ] && ok "metadata item updated" || bad "metadata item not updated"
req nova-metadata-delete-key DELETE "$NOVA/servers/$S1/metadata/role"; check "DELETE metadata/role" 204
req nova-metadata-get-deleted-key GET "$NOVA/servers/$S1/metadata/role"; check "GET deleted key" 404
req nova-metadata-put-replace PUT "$NOVA/servers/$S1/metadata" '{"metadata": {"autoscale-group": "web", "generation": "2"}}'
check "PUT metadata (replace all)" 200

echo "== tags (2.26+)"
req nova-tag-add PUT "$NOVA/servers/$S1/tags/web"; check "PUT /servers/{id}/tags/web" 201
req nova-tags-replace PUT "$NOVA/servers/${MULTI[1]}/tags" '{"tags": ["web", "canary"]}'; check "PUT /servers/{id}/tags" 200
req nova-list-by-tags GET "$NOVA/servers?tags=web"; check "GET /servers?tags=web" 200
[ "$(J '.servers | length')" = 2 ] && ok "tags filter returns 2" || bad "tags filter returned $(J '.servers | length')"
req nova-list-by-tags-any GET "$NOVA/servers?tags-any=canary,nope"; check "GET /servers?tags-any=" 200

echo "== rename / reboot"
req nova-rename PUT "$NOVA/servers/$S1" '{"server": {"name": "smoke-web-renamed"}}'; check "PUT /servers/{id} rename" 200
t0=$(now)
req nova-reboot POST "$NOVA/servers/$S1/action" '{"reboot": {"type": "SOFT"}}'; check "reboot action" 202
wait_server "$S1" ACTIVE 60 && ok "reboot back to ACTIVE in $(secs "$t0")s" || bad "reboot"

echo "== snapshot (createImage)"
t0=$(now)
req nova-create-image POST "$NOVA/servers/$S1/action" '{"createImage": {"name": "smoke-snap", "metadata": {"autoscale-group": "web"}}}'
check "createImage action" 202
SNAP=$(J -r '.image_id // empty'); [ -n "$SNAP" ] || SNAP=$(tr -d '\r' <"$TMP/hdr" | awk -F': ' 'tolower($1)=="location"{print $2}' | sed 's#.*/##')
t_status=""
for _ in $(seq 1 600); do
  req "" GET "$GLANCE/v2/images/$SNAP"; t_status=$(J -r .status 2>/dev/null)
  [ "$t_status" = active ] && break; sleep 0.2
done
req glance-snapshot-image GET "$GLANCE/v2/images/$SNAP"
[ "$t_status" = active ] && ok "snapshot $SNAP active in glance after $(secs "$t0")s" || bad "snapshot status $t_status"
wait_server "$S1" ACTIVE 60 || bad "server task_state after snapshot"
req glance-delete-snapshot DELETE "$GLANCE/v2/images/$SNAP"; check "DELETE snapshot image" 204

echo "== errors"
req nova-create-bad-flavor POST "$NOVA/servers" "$(jq -nc --arg n bad --arg i "$IMAGE" --arg f no-such-flavor --argjson c 1 "$BOOT")"
check "boot with bad flavor" 400
req nova-create-bad-image POST "$NOVA/servers" "$(jq -nc --arg n bad --arg i 00000000-0000-0000-0000-000000000000 --arg f "$FLAVOR" --argjson c 1 "$BOOT")"
check "boot with unknown image" 400
req nova-create-no-networks-2.latest POST "$NOVA/servers" "$(jq -nc --arg n bad --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | del(.server.networks)")"
check "boot without networks at >=2.37" 400
req nova-get-missing-server GET "$NOVA/servers/00000000-0000-0000-0000-000000000000"; check "GET unknown server" 404
req nova-create-networks-auto POST "$NOVA/servers" "$(jq -nc --arg n auto --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | .server.networks = \"auto\"")"
check "boot with networks=auto (two networks visible: ambiguous)" 409
MV=2.1   # legacy clients: no "networks" key at all -> Nova picks one itself, and this cloud has two
req nova-create-legacy-2.1-no-networks POST "$NOVA/servers" "$(jq -nc --arg n smoke-legacy --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | del(.server.networks, .server.min_count, .server.max_count)")"
check "boot at microversion 2.1 without networks (two networks: ambiguous)" 409
req nova-create-legacy-2.1-private POST "$NOVA/servers" "$(jq -nc --arg n smoke-legacy --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | del(.server.min_count, .server.max_count) | .server.networks = [{uuid: \"d0c10ad0-0000-4000-8000-000000000001\"}]")"
check "boot at microversion 2.1 on the private network" 202
LEGACY=$(J -r .server.id); MV="${SMOKE_MICROVERSION:-latest}"
wait_server "$LEGACY" ACTIVE 60 && ok "legacy server ACTIVE" || bad "legacy server"
req nova-server-addresses GET "$NOVA/servers/$LEGACY/ips"; check "GET /servers/{id}/ips" 200
[ "$(J -r '.addresses.private[0].addr' | cut -d. -f1-2)" = 127.100 ] && ok "address on private: $(J -r '.addresses.private[0].addr')" || bad "no private address: $(J -c .)"
ALL+=("$LEGACY")

echo "== quota"
TOKEN=$ADMIN_TOKEN
req nova-quota-show GET "$NOVA/os-quota-sets/$DEMO_PROJECT/detail"; check "GET quota detail (admin)" 200
USED=$(J .quota_set.instances.in_use)
req nova-quota-set PUT "$NOVA/os-quota-sets/$DEMO_PROJECT" "{\"quota_set\": {\"instances\": $((USED + 1))}}"
check "PUT instances quota=$((USED + 1)) (admin)" 200
TOKEN=$DEMO_TOKEN
req nova-create-over-quota-multi POST "$NOVA/servers" "$(jq -nc --arg n overq --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 2 "$BOOT")"
check "boot 2 with 1 left (min_count=2)" 403
req nova-create-within-quota POST "$NOVA/servers" "$(jq -nc --arg n overq-ok --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | del(.server.min_count, .server.max_count)")"
check "boot 1 with 1 left" 202
ALL+=("$(J -r .server.id)")
req nova-create-over-quota POST "$NOVA/servers" "$(jq -nc --arg n overq --arg i "$IMAGE" --arg f "$FLAVOR" --argjson c 1 "$BOOT | del(.server.min_count, .server.max_count)")"
check "boot past instances quota" 403
req nova-limits GET "$NOVA/limits"; check "GET /limits" 200
TOKEN=$ADMIN_TOKEN
req nova-quota-reset DELETE "$NOVA/os-quota-sets/$DEMO_PROJECT"; check "DELETE quota (back to defaults)" 202
TOKEN=$DEMO_TOKEN

echo "== delete"
t0=$(now)
for id in "${ALL[@]}"; do
  req nova-delete DELETE "$NOVA/servers/$id"
  [ "$ST" = 204 ] || bad "DELETE $id -> $ST"
done
gone=0
for id in "${ALL[@]}"; do wait_server "$id" GONE 120 && gone=$((gone + 1)); done
[ "$gone" = ${#ALL[@]} ] && ok "${#ALL[@]} servers deleted and gone in $(secs "$t0")s" || bad "only $gone/${#ALL[@]} gone"
req nova-list-empty GET "$NOVA/servers"; check "GET /servers after delete" 200
req nova-limits-after GET "$NOVA/limits"; check "GET /limits" 200
echo "  info limits.absolute: $(J -c '.limits.absolute | {maxTotalInstances, totalInstancesUsed, maxTotalCores, totalCoresUsed}')"

if command -v openstack >/dev/null 2>&1 && [ -z "${SMOKE_NO_CLI:-}" ]; then
  echo "== openstack CLI cross-check"
  if out=$(env -i PATH="$PATH" HOME="$TMP" OS_AUTH_URL="$AUTH_URL" OS_USERNAME=demo OS_PASSWORD="$DEMO_PASSWORD" \
           OS_PROJECT_NAME=demo OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
           OS_IDENTITY_API_VERSION=3 openstack flavor list -f value -c Name 2>&1); then
    ok "openstack flavor list: $(echo $out)"
  else bad "openstack CLI: $out"; fi
fi

echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
