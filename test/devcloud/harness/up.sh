#!/usr/bin/env bash
# up.sh - novascale's real-OpenStack test cloud: a loopback-only OpenStack Zed from Debian 12
# packages (installed here with apt-get as root on first use): Keystone (v3) + Glance (v2, file store) + Placement + Nova
# (compute API v2.1, conductor, scheduler, nova-compute with a fake virt
# driver) + RabbitMQ + an in-memory Neutron stub (private/public networks), all on 127.0.0.1, sqlite
# databases, all state under $DEVCLOUD_DIR (default /tmp/devcloud).
# Idempotent: re-running only starts what is not running and re-checks that
# a server boots.  Stop with down.sh.  Settings: DEVCLOUD_* variables below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
D="${DEVCLOUD_DIR:-/tmp/devcloud}"
H=127.0.0.1                                   # never anything else
KEYSTONE_PORT="${DEVCLOUD_KEYSTONE_PORT:-5000}"
GLANCE_PORT="${DEVCLOUD_GLANCE_PORT:-9292}"
PLACEMENT_PORT="${DEVCLOUD_PLACEMENT_PORT:-8778}"
NOVA_PORT="${DEVCLOUD_NOVA_PORT:-8774}"
NEUTRON_PORT="${DEVCLOUD_NEUTRON_PORT:-9696}"
RABBIT_PORT="${DEVCLOUD_RABBIT_PORT:-5672}"
EPMD_PORT="${DEVCLOUD_EPMD_PORT:-4369}"
RABBIT_DIST_PORT=$((RABBIT_PORT + 20000))
ADMIN_PASSWORD="${DEVCLOUD_ADMIN_PASSWORD:-devcloud-admin}"
DEMO_PASSWORD="${DEVCLOUD_DEMO_PASSWORD:-devcloud-demo}"
DEMO_B_PASSWORD="${DEVCLOUD_DEMO_B_PASSWORD:-devcloud-demo-b}"   # user demo-b, project demo-b
SERVICE_PASSWORD="${DEVCLOUD_SERVICE_PASSWORD:-devcloud-service}"
DEBUG="${DEVCLOUD_DEBUG:-false}"
COMPUTE_DRIVER="${DEVCLOUD_COMPUTE_DRIVER:-devcloud_fake.DevcloudFakeDriver}"
SELFTEST="${DEVCLOUD_SELFTEST:-1}"
API_PROCS="${DEVCLOUD_API_PROCESSES:-1}"      # uwsgi workers per API
PY=/usr/bin/python3                           # Debian's python, not pyenv's
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV

KS_URL="http://$H:$KEYSTONE_PORT/v3"
NOVA_URL="http://$H:$NOVA_PORT/v2.1"
GLANCE_URL="http://$H:$GLANCE_PORT"
PLACEMENT_URL="http://$H:$PLACEMENT_PORT"
NEUTRON_URL="http://$H:$NEUTRON_PORT"
# RegionTwo: a second region in the catalog whose entries reach the same services
# through the host alias "localhost" (/etc/hosts: 127.0.0.1 only), so a client
# that picks the region's endpoint is seen to use another URL.  Nova and Glance
# serve any Host header and build their links from it.
H2="${DEVCLOUD_REGION_TWO_HOST:-localhost}"
# split (default): nova-api (uwsgi), conductor, scheduler, compute as separate
# processes, RPC over RabbitMQ.  single (experimental): one nova process,
# RPC over oslo.messaging's in-memory fake:// driver, no RabbitMQ/epmd.
NOVA_MODE="${DEVCLOUD_NOVA_MODE:-split}"
case "$NOVA_MODE" in
  split) TRANSPORT_URL="rabbit://guest:guest@$H:$RABBIT_PORT/" ;;
  single) TRANSPORT_URL="fake://" ;;
  *) echo "DEVCLOUD_NOVA_MODE must be split or single" >&2; exit 2 ;;
esac

PKGS="python3-nova python3-keystone python3-glance python3-placement
      python3-openstackclient uwsgi-core uwsgi-plugin-python3 sqlite3 jq curl"
[ "$NOVA_MODE" = split ] && PKGS="$PKGS rabbitmq-server"

# The cell mapping in nova_api records the RPC transport: a state dir made in one mode cannot run the other.
if [ -f "$D/db/.nova-mode" ] && [ "$(cat "$D/db/.nova-mode")" != "$NOVA_MODE" ]; then
  echo "[devcloud] ERROR: $D was set up in $(cat "$D/db/.nova-mode") mode; run down.sh --purge (or use another DEVCLOUD_DIR) to switch to $NOVA_MODE" >&2
  exit 1
fi
for d in etc/keystone etc/glance etc/placement etc/nova db log run images \
         glance/staging keystone/fernet-keys keystone/credential-keys \
         nova/instances nova/lock rabbitmq/mnesia rabbitmq/log; do
  mkdir -p "$D/$d"
done
TIMINGS="$D/log/up-timings.log"
T_START=$(date +%s%N); STEP=""; STEP_T=$T_START
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
step() {
  if [ -n "$STEP" ]; then printf '%-34s %7d ms\n' "$STEP" "$(ms "$STEP_T")" >>"$TIMINGS"; fi
  STEP="$1"; STEP_T=$(date +%s%N)
  [ -n "$STEP" ] && echo "[devcloud $(date +%T)] $STEP"
  return 0
}
echo "=== up.sh $(date -Is) ===" >>"$TIMINGS"
# On any failure: say what failed and show the tail of every log written during this run.
RUN_MARK="$D/run/.up-started"; touch "$RUN_MARK"
show_logs() {
  local f
  for f in "$D"/log/*.log "$D"/rabbitmq/log/*.log; do
    [ -f "$f" ] && [ "$f" -nt "$RUN_MARK" ] || continue
    case "$f" in */up-timings.log) continue ;; esac
    echo "----- tail -40 $f" >&2; tail -40 "$f" >&2
  done
}
die() { echo "[devcloud] ERROR: $*" >&2; exit 1; }   # the EXIT trap prints the logs
trap 'rc=$?; [ $rc = 0 ] || { echo "[devcloud] up.sh failed (exit $rc) in step: ${STEP:-?}" >&2; show_logs; }' EXIT

# ---------------------------------------------------------------- processes
pid_ok() {   # pid_ok NAME -> process from our pid file is alive (same start time)
  local f="$D/run/$1.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/stat" ] || return 1
  [ "$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null)" = "$(cat "$D/run/$1.start" 2>/dev/null)" ]
}
start_bg() { # start_bg NAME CMD... -> background, log to $D/log/NAME.log
  local name="$1"; shift
  if pid_ok "$name"; then echo "  $name already running (pid $(cat "$D/run/$name.pid"))"; return 0; fi
  echo "=== start $(date -Is): $*" >>"$D/log/$name.log"
  stat -c %s "$D/log/$name.log" >"$D/run/$name.logoff"
  date -u +%s >"$D/run/$name.epoch"
  nohup setsid "$@" >>"$D/log/$name.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$D/run/$name.pid"
  cut -d' ' -f22 "/proc/$pid/stat" >"$D/run/$name.start"
  echo "$name" >>"$D/run/order"
  echo "  started $name (pid $pid)"
}
wait_log() { # wait_log NAME REGEX [timeout_s]: REGEX logged since NAME's last start
  local name="$1" re="$2" t="${3:-120}" i=0 off
  off=$(cat "$D/run/$name.logoff" 2>/dev/null || echo 0)
  until tail -c +$((off + 1)) "$D/log/$name.log" | grep -q -- "$re"; do
    pid_ok "$name" || die "$name died"
    i=$((i + 1)); [ $i -le $((t * 4)) ] || die "$name: no '$re' in its log after ${t}s"
    sleep 0.25
  done
}
wait_http() { # wait_http NAME URL [timeout_s]
  local name="$1" url="$2" t="${3:-120}" i=0
  until [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)" != "000" ]; do
    pid_ok "$name" || die "$name died"
    i=$((i + 1)); [ $i -le $((t * 4)) ] || die "$name not answering on $url"
    sleep 0.25
  done
}

# A port held by something that is not this state dir's service would answer our health checks with
# someone else's cloud (e.g. a devcloud started from another DEVCLOUD_DIR): refuse instead.
check_ports() {
  command -v ss >/dev/null || return 0
  local entry name port holder
  for entry in "$@"; do
    name=${entry%%:*}; port=${entry#*:}
    pid_ok "$name" && continue
    holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | head -1)
    [ -z "$holder" ] || die "port $port (for $name) is already in use: $holder. Another devcloud (other DEVCLOUD_DIR)? Stop it with its down.sh."
  done
}
if [ "$NOVA_MODE" = split ]; then
  check_ports epmd:$EPMD_PORT rabbitmq:$RABBIT_PORT nova-api:$NOVA_PORT
else
  check_ports nova:$NOVA_PORT
fi
check_ports keystone:$KEYSTONE_PORT placement-api:$PLACEMENT_PORT glance-api:$GLANCE_PORT fake-neutron:$NEUTRON_PORT

# ----------------------------------------------------------------- packages
step "apt: install packages"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || die "packages missing ($missing ); run up.sh as root once so it can apt-get install them"
  echo "  installing:$missing"
  # keep package maintainer scripts from starting rabbitmq on 0.0.0.0
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # --force-unsafe-io: no fsync per unpacked file (test box; saves time)
  APT=(apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io)
  apt_ok=1
  { apt-get update -q >"$D/log/apt.log" 2>&1 && "${APT[@]}" $missing >>"$D/log/apt.log" 2>&1; } || apt_ok=0
  [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ $apt_ok = 1 ] || die "apt-get update/install failed (see $D/log/apt.log)"
fi

# ------------------------------------------------------------------ configs
step "write configs"
sqlite() { echo "sqlite:///$D/db/$1.sqlite"; }
authtoken() { # authtoken USER -> [keystone_authtoken] body
  cat <<EOF
www_authenticate_uri = http://$H:$KEYSTONE_PORT
auth_url = http://$H:$KEYSTONE_PORT
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SERVICE_PASSWORD
region_name = RegionOne
service_token_roles_required = true
EOF
}
svcauth() { # credentials block for nova's [placement]/[neutron]/[glance]
  cat <<EOF
auth_type = password
auth_url = http://$H:$KEYSTONE_PORT/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = nova
password = $SERVICE_PASSWORD
region_name = RegionOne
EOF
}

cat >"$D/etc/keystone/keystone.conf" <<EOF
[DEFAULT]
debug = $DEBUG
[database]
connection = $(sqlite keystone)
sqlite_synchronous = false
[token]
provider = fernet
[fernet_tokens]
key_repository = $D/keystone/fernet-keys
[fernet_receipts]
key_repository = $D/keystone/fernet-keys
[credential]
key_repository = $D/keystone/credential-keys
# in-process cache: without it every token validation runs ~500 SQL
# queries (~0.4 s CPU each); keystone runs as ONE uwsgi worker so the
# per-process cache stays coherent
[cache]
enabled = true
backend = dogpile.cache.memory
[identity]
# bcrypt cost 4 instead of 12: dev passwords, ~0.3 s CPU saved per login
password_hash_rounds = 4
EOF

cat >"$D/etc/placement/placement.conf" <<EOF
[DEFAULT]
debug = $DEBUG
[placement_database]
connection = $(sqlite placement)
sqlite_synchronous = false
[api]
auth_strategy = keystone
[keystone_authtoken]
$(authtoken placement)
EOF

cat >"$D/etc/glance/glance-api.conf" <<EOF
[DEFAULT]
debug = $DEBUG
bind_host = $H
bind_port = $GLANCE_PORT
workers = 0
public_endpoint = $GLANCE_URL
node_staging_uri = file://$D/glance/staging
image_cache_dir = $D/glance/cache
[database]
connection = $(sqlite glance)
sqlite_synchronous = false
[keystone_authtoken]
$(authtoken glance)
[paste_deploy]
flavor = keystone
config_file = $D/etc/glance/glance-api-paste.ini
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $D/images/
[oslo_policy]
enforce_new_defaults = false
EOF
cat >"$D/etc/glance/glance-api-paste.ini" <<EOF
[pipeline:glance-api-keystone]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation authtoken context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
backends = disable_by_file
disable_by_file_path = $D/glance/healthcheck_disable
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF

cat >"$D/etc/nova/nova.conf" <<EOF
[DEFAULT]
debug = $DEBUG
host = devcloud
my_ip = $H
state_path = $D/nova
instances_path = $D/nova/instances
compute_driver = $COMPUTE_DRIVER
transport_url = $TRANSPORT_URL
enabled_apis = osapi_compute
osapi_compute_listen = $H
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
metadata_listen = $H
use_rootwrap_daemon = false
heal_instance_info_cache_interval = 0
# heartbeat every 5s (default 10) so a (re)started nova-compute shows up fast
report_interval = 5
instance_usage_audit = false
# one fake host: resize/migrate must be allowed to land on the same host
allow_resize_to_same_host = true
# fake hypervisor: skip power-state sync noise
sync_power_state_interval = -1
default_log_levels = amqp=WARN,amqplib=WARN,sqlalchemy=WARN,oslo.messaging=INFO,oslo_messaging=INFO,oslo_messaging.rpc.client=ERROR,iso8601=WARN,urllib3.connectionpool=WARN,urllib3.util.retry=WARN,keystonemiddleware=WARN,routes.middleware=WARN,stevedore=WARN,taskflow=WARN,keystoneauth=WARN,oslo.cache=INFO,oslo_policy=INFO,dogpile.core.dogpile=INFO,glanceclient=WARN,oslo.privsep.daemon=INFO
[wsgi]
api_paste_config = $D/etc/nova/api-paste.ini
[keystone_authtoken]
$(authtoken nova)
[placement]
$(svcauth)
[neutron]
$(svcauth)
endpoint_override = $NEUTRON_URL
[glance]
region_name = RegionOne
[oslo_concurrency]
lock_path = $D/nova/lock
[oslo_messaging_notifications]
driver = noop
[quota]
# count instances from the API DB (instance mappings, written synchronously
# by nova-api) instead of the cell DB (written later by the conductor):
# a boot right after another one then gets a deterministic 403 instead of
# 202 + ERROR from the conductor's quota recheck.  cores/ram come from
# placement allocations.
count_usage_from_placement = true
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = -1
[vnc]
enabled = false
[spice]
enabled = false
[serial_console]
enabled = false
[cinder]
os_region_name = RegionOne
EOF
# DB access only for api/conductor/scheduler/nova-manage, never nova-compute
# (compute with [api_database] set logs "No DB access allowed" errors)
cat >"$D/etc/nova/nova-db.conf" <<EOF
[api_database]
connection = $(sqlite nova_api)
sqlite_synchronous = false
[database]
connection = $(sqlite nova_cell1)
sqlite_synchronous = false
EOF
cat >"$D/etc/nova/api-paste.ini" <<EOF
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2: oscomputeversion_legacy_v2
/v2.1: oscomputeversion_v2
/v2/+: openstack_compute_api_v21_legacy_v2_compatible
/v2.1/+: openstack_compute_api_v21
[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit authtoken keystonecontext osapi_compute_app_v21
[composite:openstack_compute_api_v21_legacy_v2_compatible]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit authtoken keystonecontext legacy_v2_compatible osapi_compute_app_v21
[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory
[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:legacy_v2_compatible]
paste.filter_factory = nova.api.openstack:LegacyV2CompatibleWrapper.factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = cors faultwrap request_log http_proxy_to_wsgi oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi oscomputeversionapp_v2
[pipeline:oscomputeversion_legacy_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi legacy_v2_compatible oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = nova
[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
EOF

# RabbitMQ: own node, own dirs, loopback-only listeners, no plugins
RMQ="$D/rabbitmq"
echo '[].' >"$RMQ/enabled_plugins"
: >"$RMQ/rabbitmq-env.conf"
cat >"$RMQ/rabbitmq.conf" <<EOF
listeners.tcp.default = $H:$RABBIT_PORT
loopback_users.guest = true
log.file.level = warning
log.console = false
EOF
RMQ_ENV=(env HOME="$RMQ" RABBITMQ_NODENAME="devcloud@localhost"
  RABBITMQ_NODE_IP_ADDRESS="$H" RABBITMQ_NODE_PORT="$RABBIT_PORT"
  RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" ERL_EPMD_ADDRESS="$H" ERL_EPMD_PORT="$EPMD_PORT"
  RABBITMQ_CONF_ENV_FILE="$RMQ/rabbitmq-env.conf" RABBITMQ_CONFIG_FILE="$RMQ/rabbitmq"
  RABBITMQ_MNESIA_BASE="$RMQ/mnesia" RABBITMQ_LOG_BASE="$RMQ/log"
  RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ/enabled_plugins" RABBITMQ_PID_FILE="$RMQ/beam.pid"
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")
[ -s "$RMQ/.erlang.cookie" ] || { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RMQ/.erlang.cookie"; chmod 400 "$RMQ/.erlang.cookie"; }

# spec consumed by the python helpers
head -c 4096 /dev/zero | tr '\0' 'x' >"$D/cirros-fake.img" 2>/dev/null || true
cat >"$D/spec.json" <<EOF
{"auth_url": "$KS_URL", "region": "RegionOne",
 "admin_user": "admin", "admin_password": "$ADMIN_PASSWORD", "admin_project": "admin",
 "demo_user": "demo", "demo_password": "$DEMO_PASSWORD", "demo_project": "demo",
 "roles": ["admin", "member", "reader", "service"],
 "projects": ["service", "demo", "demo-b"],
 "users": [
   {"name": "nova", "password": "$SERVICE_PASSWORD", "project": "service", "roles": ["admin", "service"]},
   {"name": "glance", "password": "$SERVICE_PASSWORD", "project": "service", "roles": ["admin", "service"]},
   {"name": "placement", "password": "$SERVICE_PASSWORD", "project": "service", "roles": ["admin", "service"]},
   {"name": "demo", "password": "$DEMO_PASSWORD", "project": "demo", "roles": ["member"]},
   {"name": "demo-b", "password": "$DEMO_B_PASSWORD", "project": "demo-b", "roles": ["member"]}],
 "services": [
   {"type": "compute", "name": "nova", "url": "$NOVA_URL"},
   {"type": "image", "name": "glance", "url": "$GLANCE_URL"},
   {"type": "placement", "name": "placement", "url": "$PLACEMENT_URL"},
   {"type": "network", "name": "neutron", "url": "$NEUTRON_URL"}],
 "regions": [{"id": "RegionTwo", "urls": {
   "identity": "http://$H2:$KEYSTONE_PORT/v3", "compute": "http://$H2:$NOVA_PORT/v2.1",
   "image": "http://$H2:$GLANCE_PORT", "placement": "http://$H2:$PLACEMENT_PORT",
   "network": "http://$H2:$NEUTRON_PORT"}}],
 "flavors": [["1", "m1.tiny", 512, 1, 1], ["2", "m1.small", 2048, 1, 20],
             ["3", "m1.medium", 4096, 2, 40], ["4", "m1.large", 8192, 4, 80]],
 "image": {"name": "cirros-fake", "file": "$D/cirros-fake.img"}}
EOF

# --------------------------------------------------------------- rabbitmq
if [ "$NOVA_MODE" = split ]; then
  step "start epmd + rabbitmq"
  start_bg epmd env ERL_EPMD_ADDRESS="$H" ERL_EPMD_PORT="$EPMD_PORT" /usr/bin/epmd
  start_bg rabbitmq "${RMQ_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server
fi

# ------------------------------------------------------- databases (sqlite)
NM="$HERE/lib/nova-cmd"
NOVA_DB_CONF=(--config-file "$D/etc/nova/nova.conf" --config-file "$D/etc/nova/nova-db.conf")
nova_manage() { "$NM" manage "${NOVA_DB_CONF[@]}" "$@"; }
wal() { for f in "$@"; do sqlite3 "$D/db/$f.sqlite" 'PRAGMA journal_mode=WAL;' >/dev/null; done; }

# All db syncs run in parallel (they are CPU-bound python start-ups; the
# keystone one is waited for right away, the others before their services).
step "db syncs (keystone; glance, placement, nova in background)"
dbsync_pids=()
if [ ! -f "$D/db/.glance" ]; then
  ( "$HERE/lib/glance-cmd" manage --config-file "$D/etc/glance/glance-api.conf" db_sync \
      >"$D/log/dbsync-glance.log" 2>&1 && wal glance && touch "$D/db/.glance" ) &
  dbsync_pids+=($!)
fi
if [ ! -f "$D/db/.placement" ]; then
  ( placement-manage --config-file "$D/etc/placement/placement.conf" db sync \
      >"$D/log/dbsync-placement.log" 2>&1 && wal placement && touch "$D/db/.placement" ) &
  dbsync_pids+=($!)
fi
if [ ! -f "$D/db/.nova" ]; then
  ( "$HERE/lib/nova-db-init" "$(sqlite nova_cell0)" "${NOVA_DB_CONF[@]}" \
      >"$D/log/dbsync-nova.log" 2>&1 && wal nova_api nova_cell0 nova_cell1 && touch "$D/db/.nova" &&
      echo "$NOVA_MODE" >"$D/db/.nova-mode" ) &
  dbsync_pids+=($!)
fi
if [ ! -f "$D/db/.keystone" ]; then
  KM=(keystone-manage --config-file "$D/etc/keystone/keystone.conf")
  ( exec >"$D/log/dbsync-keystone.log" 2>&1
    "${KM[@]}" fernet_setup --keystone-user root --keystone-group root &&
    "${KM[@]}" credential_setup --keystone-user root --keystone-group root ) &
  keys_pid=$!
  "${KM[@]}" db_sync >>"$D/log/dbsync-keystone.log" 2>&1 || die "keystone db_sync failed"
  wait "$keys_pid" || die "keystone fernet/credential setup failed"
  wal keystone; touch "$D/db/.keystone"
fi

# ----------------------------------------------------------------- keystone
step "keystone: start + bootstrap"
# threads=1: keystone/placement hit "SQLite objects created in a thread can
# only be used in that same thread" with sqlite + uwsgi threads; nova-api is
# eventlet-monkey-patched.  "Connection: close" because uwsgi's http-socket
# closes after each response and pooled clients otherwise get ECONNRESET.
UWSGI=(uwsgi --plugins python3 --master --die-on-term --no-orphans --lazy-apps
       --enable-threads --buffer-size 65535 --add-header "Connection: close")
start_bg keystone "${UWSGI[@]}" --http-socket "$H:$KEYSTONE_PORT" \
  --processes 1 --threads 1 --env OS_KEYSTONE_CONFIG_DIR="$D/etc/keystone" \
  --wsgi-file /usr/bin/keystone-wsgi-public
KS_MARK="$D/db/.keystone-setup-$(md5sum <"$D/spec.json" | cut -c1-12)"
[ -f "$KS_MARK" ] || keystone-manage --config-file "$D/etc/keystone/keystone.conf" bootstrap \
  --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-username admin \
  --bootstrap-project-name admin --bootstrap-role-name admin \
  --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
  --bootstrap-admin-url "$KS_URL" --bootstrap-internal-url "$KS_URL" \
  --bootstrap-public-url "$KS_URL" >>"$D/log/keystone-bootstrap.log" 2>&1
wait_http keystone "$KS_URL"
if [ ! -f "$KS_MARK" ]; then
  $PY "$HERE/lib/keystone_setup.py" "$D/spec.json" >>"$D/log/keystone-bootstrap.log"
  rm -f "$D"/db/.keystone-setup-*; touch "$KS_MARK"
fi

step "wait for db syncs"
for p in "${dbsync_pids[@]}"; do
  wait "$p" || { tail -20 "$D"/log/dbsync-*.log; die "a db sync failed (see $D/log/dbsync-*.log)"; }
done

# ----------------------------------------------------------- other services
step "start placement, glance, nova, fake neutron"
start_bg placement-api "${UWSGI[@]}" --http-socket "$H:$PLACEMENT_PORT" \
  --processes "$API_PROCS" --threads 1 --env OS_PLACEMENT_CONFIG_DIR="$D/etc/placement" \
  --wsgi-file /usr/bin/placement-api
start_bg glance-api "$HERE/lib/glance-cmd" api --config-file "$D/etc/glance/glance-api.conf"
start_bg fake-neutron $PY "$HERE/lib/fake_neutron.py" "$H" "$NEUTRON_PORT"
if [ "$NOVA_MODE" = single ]; then
  start_bg nova "$HERE/lib/nova-allinone" "${NOVA_DB_CONF[@]}"
  NOVA_API_NAME=nova; NOVA_COMPUTE_NAME=nova
else
  start_bg nova-api "${UWSGI[@]}" --http-socket "$H:$NOVA_PORT" \
    --processes "$API_PROCS" --threads 1 --env OS_NOVA_CONFIG_DIR="$D/etc/nova" \
    --env OS_NOVA_CONFIG_FILES="api-paste.ini;nova.conf;nova-db.conf" \
    --wsgi-file "$HERE/lib/nova-api-wsgi.py"
  start_bg nova-conductor "$NM" conductor "${NOVA_DB_CONF[@]}"
  start_bg nova-scheduler "$NM" scheduler "${NOVA_DB_CONF[@]}"
  # nova-compute pings the conductor once at start; if the conductor's queue
  # does not exist yet the ping is dropped and compute waits 10s, so start
  # it only once the conductor is consuming.
  if ! pid_ok nova-compute; then wait_log nova-conductor "Starting conductor node"; fi
  start_bg nova-compute "$NM" compute --config-file "$D/etc/nova/nova.conf"
  NOVA_API_NAME=nova-api; NOVA_COMPUTE_NAME=nova-compute
fi

step "wait for APIs"
wait_http placement-api "$PLACEMENT_URL"
wait_http glance-api "$GLANCE_URL/versions"
wait_http fake-neutron "$NEUTRON_URL"
wait_http "$NOVA_API_NAME" "http://$H:$NOVA_PORT/"

step "wait for nova-compute up + discover_hosts"
# map the new compute host into cell1 as soon as its compute node record
# exists (host mapping persists in the DB, so only once per state dir)
discover_pid=""
if [ ! -f "$D/db/.hosts-discovered" ]; then
  ( for _ in $(seq 1 480); do
      [ "$(sqlite3 "$D/db/nova_cell1.sqlite" 'select count(*) from compute_nodes where deleted=0' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
      sleep 0.25
    done
    nova_manage cell_v2 discover_hosts --verbose >>"$D/log/nova-discover.log" 2>&1 &&
    touch "$D/db/.hosts-discovered" ) &
  discover_pid=$!
fi
# wait for a heartbeat from *this* nova-compute (a stale record from a
# previous run still reads "up" for service_down_time seconds)
$PY "$HERE/lib/devcloud_api.py" "$D/spec.json" wait-compute "$(cat "$D/run/$NOVA_COMPUTE_NAME.epoch")"
if [ -n "$discover_pid" ]; then wait "$discover_pid" || die "cell_v2 discover_hosts failed"; fi
$PY "$HERE/lib/devcloud_api.py" "$D/spec.json" wait-hypervisor

step "seed flavors + image"
IMAGE_ID=$($PY "$HERE/lib/devcloud_api.py" "$D/spec.json" seed)

if [ "$SELFTEST" = 1 ]; then
  step "selftest: boot one server to ACTIVE + delete"
  $PY "$HERE/lib/devcloud_api.py" "$D/spec.json" selftest | tee -a "$TIMINGS"
fi
step ""
printf '%-34s %7d ms\n' "TOTAL up.sh" "$(ms "$T_START")" >>"$TIMINGS"

# ----------------------------------------------------------------- summary
for who in admin demo demo-b; do
  case $who in admin) pw="$ADMIN_PASSWORD" ;; demo) pw="$DEMO_PASSWORD" ;; *) pw="$DEMO_B_PASSWORD" ;; esac
  cat >"$D/${who}rc" <<EOF
export OS_AUTH_URL=$KS_URL
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=$who
export OS_PASSWORD=$pw
export OS_PROJECT_NAME=$who
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_COMPUTE_API_VERSION=2.latest
export DEVCLOUD_COMPUTE_URL=$NOVA_URL
export DEVCLOUD_IMAGE_URL=$GLANCE_URL
EOF
done
echo
echo "devcloud is up (state: $D, logs: $D/log, timings: $TIMINGS)"
echo "total: $(( $(ms "$T_START") / 1000 ))s"
echo
echo "# admin credentials (also in $D/adminrc; demo user/project in $D/demorc):"
sed 's/^/  /' "$D/adminrc"
echo "# demo: OS_USERNAME=demo OS_PASSWORD=$DEMO_PASSWORD OS_PROJECT_NAME=demo"
echo "# demo-b (second project, $D/demo-brc): OS_USERNAME=demo-b OS_PASSWORD=$DEMO_B_PASSWORD OS_PROJECT_NAME=demo-b"
echo "# regions: RegionOne (http://$H:...), RegionTwo (the same services at http://$H2:...; OS_REGION_NAME=RegionTwo)"
echo "# compute endpoint: $NOVA_URL   image: $GLANCE_URL   placement: $PLACEMENT_URL"
echo "# image: cirros-fake ($IMAGE_ID)  flavors: m1.tiny(1) m1.small(2) m1.medium(3) m1.large(4)"
echo "# networks (Neutron stub): private d0c10ad0-0000-4000-8000-000000000001 (127.100.0.0/16),"
echo "#   public d0c10ad0-0000-4000-8000-000000000002 (127.200.0.0/16); boot with \"networks\": \"none\" for no NICs"
