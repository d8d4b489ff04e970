#!/usr/bin/env bash
# Record real ZooKeeper client traffic on loopback into the golden captures
# tests/captures/zookeeper/{kazoo-basic,kazoo-watches,zkcli,cli_mt,fourletter,kazoo-tls,
# zkcli-sasl,tokio-zookeeper}.pcapng.
#
#   bash tests/record/record-zookeeper.sh
#
# Debian 12, needs root (dumpcap on lo; apt-get for missing packages).
# Starts a private standalone ZooKeeper 3.8 on 127.0.0.1:2181 with an empty
# dataDir, records one capture per scenario, and checks every capture by
# decoding the ZooKeeper PDUs from the raw TCP bytes (zk_summarize.py).
# See tests/record/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
OUT_DIR="${ZK_CAPTURE_DIR:-$REPO_DIR/tests/captures/zookeeper}"
WORK="${ZK_RECORD_WORKDIR:-/tmp/zk-record}"   # fixed path: shows up in 'conf'/'envi' replies
HOST=127.0.0.1
PORT=2181
TLS_PORT=2281                                 # secureClientPort (kazoo-tls only)
PY=/usr/bin/python3                           # Debian python with python3-kazoo
ZK_JAR=/usr/share/java/zookeeper.jar
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
CLI_MT=/usr/lib/zookeeper/bin/cli_mt
MAX_BYTES=$((1536 * 1024))                    # sanity limit per capture

LOG_TAG=record
# shellcheck source=tests/record/lib.sh
. "$SCRIPT_DIR/lib.sh"

# ---------------------------------------------------------------- root, deps
require_root "$@"

ensure_deps() {
    local -a pkgs=()
    [ -f "$ZK_JAR" ] && [ -x "$ZKCLI" ] && command -v java >/dev/null 2>&1 || pkgs+=(zookeeper)
    [ -x "$CLI_MT" ] || pkgs+=(zookeeper-bin)
    { [ -x "$PY" ] && "$PY" -c 'import kazoo' >/dev/null 2>&1; } || pkgs+=(python3 python3-kazoo)
    { command -v dumpcap && command -v tshark && command -v capinfos; } >/dev/null 2>&1 || pkgs+=(tshark)
    install_missing "${pkgs[@]}"
    [ -f "$ZK_JAR" ] || die "$ZK_JAR missing after install"
    "$PY" -c 'import kazoo' || die "kazoo not importable by $PY"
}
ensure_deps

# ------------------------------------------------------------ state, cleanup
ZK_PID=""
START_TIME=$SECONDS

stop_server() {
    if [ -n "$ZK_PID" ]; then
        kill -TERM "$ZK_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$ZK_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$ZK_PID" 2>/dev/null || true
        wait "$ZK_PID" 2>/dev/null || true
        ZK_PID=""
    fi
}

stop_servers() { stop_server; }
show_server_logs() {
    local slog
    slog=$(ls -t "$WORK"/server-*.log 2>/dev/null | head -n 1 || true)
    [ -n "$slog" ] && { log "--- tail of $slog"; tail -n 30 "$slog" >&2; }
}
trap_cleanup

port_in_use() {
    "$PY" - "$HOST" "$PORT" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
EOF
}

ruok() {
    "$PY" - "$HOST" "$PORT" <<'EOF'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.sendall(b"ruok")
    sys.exit(0 if s.recv(16) == b"imok" else 1)
except OSError:
    sys.exit(1)
EOF
}

# -------------------------------------------------------------------- server
# start_server NAME: fresh standalone server with an empty dataDir (so every capture
# starts from the same state: same paths, sequence numbers and zxids on every run)
start_server() {
    local name=$1
    port_in_use && die "something already listens on $HOST:$PORT (stop it first, e.g. systemctl stop zookeeper)"
    rm -rf "$WORK/data"
    mkdir -p "$WORK/data"
    local tls_cfg=""
    if [ "$name" = kazoo-tls ]; then
        make_keystores
        # Netty serves the secure port; the plain port stays for the ruok readiness probe.
        tls_cfg="secureClientPort=$TLS_PORT
secureClientPortAddress=$HOST
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
ssl.keyStore.location=$WORK/keystore.jks
ssl.keyStore.password=zkh2test
ssl.trustStore.location=$WORK/truststore.jks
ssl.trustStore.password=zkh2test
ssl.clientAuth=none"
    fi
    local sasl_cfg="" jvm_sasl=()
    if [ "$name" = zkcli-sasl ]; then
        write_jaas
        # SASL with DIGEST-MD5, ZooKeeper's built-in mechanism (user bob).
        sasl_cfg="authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
        jvm_sasl=(-Djava.security.auth.login.config="$WORK/jaas-server.conf")
    fi
    cat >"$WORK/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$WORK/data
clientPort=$PORT
clientPortAddress=$HOST
maxClientCnxns=60
4lw.commands.whitelist=*
extendedTypesEnabled=true
admin.enableServer=false
$tls_cfg
$sasl_cfg
EOF
    # zookeeper.jar's manifest Class-Path pulls in all its Debian dependency jars but
    # netty-codec, which the TLS port needs; slf4j-simple (libslf4j-java) gives a readable
    # server.log.
    local cp="/etc/zookeeper/conf:$ZK_JAR:/usr/share/java/netty-codec.jar"
    [ -f /usr/share/java/slf4j-simple.jar ] && cp="$cp:/usr/share/java/slf4j-simple.jar"
    log "starting ZooKeeper on $HOST:$PORT for $name"
    (cd "$WORK" && exec java -Xmx256m \
        -Djava.net.preferIPv4Stack=true \
        -Dzookeeper.extendedTypesEnabled=true \
        -Dzookeeper.admin.enableServer=false \
        -Dzookeeper.4lw.commands.whitelist='*' \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=info "${jvm_sasl[@]}" \
        -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zoo.cfg" \
        >"$WORK/server-$name.log" 2>&1) &
    ZK_PID=$!
    for _ in $(seq 150); do
        kill -0 "$ZK_PID" 2>/dev/null || die "ZooKeeper exited during startup"
        if ruok; then
            log "server answers ruok"
            wait_port_quiet
            return 0
        fi
        sleep 0.2
    done
    die "ZooKeeper did not answer ruok within 30 s"
}

# write_jaas: the server's SASL users, and a client login as bob with the right and with a
# wrong password
write_jaas() {
    cat >"$WORK/jaas-server.conf" <<'JAAS'
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_bob="bobsecret";
};
JAAS
    local pw
    for pw in bobsecret wrongsecret; do
        cat >"$WORK/jaas-client-$pw.conf" <<JAAS
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="bob"
    password="$pw";
};
JAAS
    done
}

# make_keystores: a fresh self-signed server key (keystore) and its certificate (truststore)
make_keystores() {
    rm -f "$WORK/keystore.jks" "$WORK/truststore.jks" "$WORK/server.crt"
    keytool -genkeypair -alias zk -keyalg RSA -keysize 2048 -validity 3650 \
        -dname CN=localhost -ext SAN=ip:$HOST -storetype JKS \
        -keystore "$WORK/keystore.jks" -storepass zkh2test -keypass zkh2test >/dev/null 2>&1 \
        || die "keytool -genkeypair failed"
    keytool -exportcert -alias zk -keystore "$WORK/keystore.jks" -storepass zkh2test \
        -file "$WORK/server.crt" >/dev/null 2>&1 || die "keytool -exportcert failed"
    keytool -importcert -noprompt -alias zk -file "$WORK/server.crt" -storetype JKS \
        -keystore "$WORK/truststore.jks" -storepass zkh2test >/dev/null 2>&1 \
        || die "keytool -importcert failed"
}

# wait until no connection on the port is still open or closing (the ruok probes must not
# leak stray FIN/ACK segments into the next capture); TIME-WAIT is fine
wait_port_quiet() {
    if command -v ss >/dev/null 2>&1; then
        for _ in $(seq 50); do
            [ -z "$(ss -Htan "( sport = :$PORT or dport = :$PORT )" | grep -vE '^(LISTEN|TIME-WAIT)' || true)" ] && break
            sleep 0.1
        done
    fi
    sleep 0.5
}

# drop_strays FILE: remove segments of TCP connections whose SYN is not in FILE
drop_strays() {
    local f=$1 all syn
    all=$(tsh -n -r "$f" -T fields -e tcp.stream | sort -un | tr '\n' ' ')
    syn=$(tsh -n -r "$f" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" -T fields -e tcp.stream | sort -un | tr '\n' ' ')
    if [ "$all" != "$syn" ]; then
        log "dropping stray segments of connections opened before the capture (streams: $all; with SYN: $syn)"
        [ -n "$syn" ] || die "no complete connection captured"
        local set=${syn% }
        tsh -n -r "$f" -Y "tcp.stream in {${set// /,}}" -w "$f.clean"
        mv -f "$f.clean" "$f"
    fi
}

# ------------------------------------------------------------------- capture
# capture NAME CMD...: start a fresh server, record CMD's traffic into $OUT_DIR/NAME
capture() {
    local name=$1; shift
    local tmp="$WORK/$name"
    rm -f "$tmp"
    start_server "${name%.pcapng}"
    log "=== $name: capturing"
    start_dumpcap "tcp port $PORT or tcp port $TLS_PORT" "$tmp" "$WORK/dumpcap-$name.log"
    "$@"
    sleep 1.5                                  # let FIN/ACKs and late replies arrive
    stop_dumpcap
    stop_server
    drop_strays "$tmp"
    if [ -s "$WORK/keylog-$name" ]; then
        # The TLS session keys go beside the capture (NAME.keys), not into it: editcap 4.0
        # cannot rewrite a pcapng with a Decryption Secrets Block, so scripts/robustness
        # could not mutate it.
        install -m 0644 "$WORK/keylog-$name" "$OUT_DIR/${name%.pcapng}.keys"
    fi
    chmod 0644 "$tmp"
    mkdir -p "$OUT_DIR"
    mv -f "$tmp" "$OUT_DIR/$name"
    if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT_DIR/$name"; fi
}

# feed DELAY INITIAL_DELAY LINE...: print lines slowly on stdout (for interactive CLIs)
feed() {
    local delay=$1 first=$2; shift 2
    sleep "$first"
    for line in "$@"; do
        printf '%s\n' "$line" || return 0
        sleep "$delay"
    done
}

# run_fed LOG MAX_OK_RC DELAY INITIAL_DELAY -- CMD... -- LINES...: CMD with LINES on stdin;
# exit codes 0..MAX_OK_RC count as success (zkCli exits 1 when a command failed, and
# some of ours fail on purpose).
run_fed() {
    local logf=$1 max_rc=$2 delay=$3 first=$4; shift 4
    [ "$1" = "--" ] || die "run_fed usage"; shift
    local -a cmd=()
    while [ "$1" != "--" ]; do cmd+=("$1"); shift; done
    shift
    local -a st
    set +e
    feed "$delay" "$first" "$@" | timeout 120 "${cmd[@]}" >"$logf" 2>&1
    st=("${PIPESTATUS[@]}")
    set -e
    if [ "${st[1]}" -gt "$max_rc" ]; then
        tail -n 40 "$logf" >&2
        die "${cmd[0]} exited with ${st[1]}"
    fi
}

# --------------------------------------------------------------- scenarios
scenario_kazoo() {
    "$PY" "$SCRIPT_DIR/zk_kazoo_scenario.py" "$HOST:$PORT" >"$WORK/kazoo.log" 2>&1 \
        || { cat "$WORK/kazoo.log" >&2; die "kazoo scenario failed"; }
}

scenario_kazoo_watches() {
    "$PY" "$SCRIPT_DIR/zk_kazoo_watches.py" "$HOST:$PORT" >"$WORK/kazoo-watches.log" 2>&1 \
        || { cat "$WORK/kazoo-watches.log" >&2; die "kazoo watches scenario failed"; }
    cat "$WORK/kazoo-watches.log" >&2
}

scenario_kazoo_tls() {
    ZK_KEYLOG="$WORK/keylog-kazoo-tls.pcapng" "$PY" "$SCRIPT_DIR/zk_kazoo_tls.py" "$HOST:$TLS_PORT" \
        >"$WORK/kazoo-tls.log" 2>&1 || { cat "$WORK/kazoo-tls.log" >&2; die "kazoo TLS scenario failed"; }
}

# zkcli_sasl_session PASSWORD LOG LINE...: zkCli logging in as bob with PASSWORD (JAAS)
zkcli_sasl_session() {
    local pw=$1 logf=$2; shift 2
    run_fed "$logf" 1 0.4 2.5 -- \
        env ZOO_LOG_DIR="$WORK" CLIENT_JVMFLAGS="-Djava.net.preferIPv4Stack=true -Djava.security.auth.login.config=$WORK/jaas-client-$pw.conf" \
        "$ZKCLI" -server "$HOST:$PORT" -- "$@"
}

scenario_zkcli_sasl() {
    # Two zkCli sessions: bob logs in (DIGEST-MD5), creates a node only he may use, reads it;
    # then a login with a wrong password, which the server refuses.
    zkcli_sasl_session bobsecret "$WORK/zkcli-sasl.log" \
        "create /sasl bob-only sasl:bob:cdrwa" "getAcl /sasl" "get /sasl" "whoami" "quit"
    grep -q "SaslAuthenticated" "$WORK/zkcli-sasl.log" || die "bob did not authenticate"
    zkcli_sasl_session wrongsecret "$WORK/zkcli-sasl-bad.log" "get /sasl" "quit"
    grep -q "AuthFailed" "$WORK/zkcli-sasl-bad.log" || die "the wrong password was not refused"
}

scenario_zkcli() {
    # Java CLI (ZooKeeperMain, ZK 3.8). Sync API: one request at a time.
    run_fed "$WORK/zkcli.log" 1 0.4 2.5 -- \
        env ZOO_LOG_DIR="$WORK" CLIENT_JVMFLAGS="-Djava.net.preferIPv4Stack=true" \
        "$ZKCLI" -server "$HOST:$PORT" -- \
        "create /zk zkdata" \
        "create /zk again" \
        "create -e /zk/eph ephemeral" \
        "create -s /zk/seq- sequential" \
        "create -e -s /zk/es- ephemeral-sequential" \
        "create -c /zk/cont container" \
        "create -t 10000 /zk/ttl ttl" \
        "create /zk/ro readonly world:anyone:r" \
        "get /zk" \
        "get -s /zk" \
        "get -w /zk" \
        "set /zk zkdata2" \
        "set -v 99 /zk badversion" \
        "set /zk/ro denied" \
        "stat /zk" \
        "stat /missing" \
        "ls /zk" \
        "ls -s /zk" \
        "ls -w /zk" \
        "create /zk/child child" \
        "getAcl /zk" \
        "getAcl /zk/ro" \
        "setAcl /zk/seq-0000000001 world:anyone:cdrw" \
        "addauth digest u:p" \
        "create /zk/authed authed auth::cdrwa" \
        "getAcl /zk/authed" \
        "sync /zk" \
        "whoami" \
        "getEphemerals /zk" \
        "getAllChildrenNumber /zk" \
        "addWatch /zk/cont" \
        "create /zk/cont/x x" \
        "removewatches /zk/cont -a" \
        "addWatch -m PERSISTENT_RECURSIVE /zk/cont" \
        "create /zk/cont/y y" \
        "create /zk/cont/y/z z" \
        "reconfig -add server.2=127.0.0.1:2888:3888;2182" \
        "reconfig -remove 3" \
        "delete /zk/seq-0000000001" \
        "delete /zk" \
        "deleteall /zk" \
        "get /missing" \
        "quit"
}

scenario_cli_mt() {
    # C client (libzookeeper-mt). Data of 'create' is always "new"; get/ls/ls2/exists set watches.
    run_fed "$WORK/cli_mt.log" 0 0.4 1 -- "$CLI_MT" "$HOST:$PORT" -- \
        "create /c" \
        "create /c" \
        "create +e /c/eph" \
        "create +s /c/seq-" \
        "create +es /c/es-" \
        "create +c /cont" \
        "create +t=10000 /cttl" \
        "create2 /c2" \
        "get /c" \
        "set /c newdata" \
        "get /missing" \
        "ls /c" \
        "ls2 /c" \
        "create /c/child" \
        "exists /c" \
        "exists /missing" \
        "wexists /c2" \
        "delete /c2" \
        "sync /c" \
        "addauth digest u:p" \
        "myid" \
        "config" \
        "delete /c" \
        "delete /c/seq-0000000001" \
        "quit"
}

scenario_fourletter() {
    "$PY" "$SCRIPT_DIR/zk_fourletter.py" "$HOST" "$PORT" >"$WORK/fourletter.log" 2>&1 \
        || { cat "$WORK/fourletter.log" >&2; die "four-letter-word scenario failed"; }
}

# The Rust client tokio-zookeeper 0.4 (tools/tokio-zk-client, a crate of its own that the
# plugin does not depend on): a 29-byte ConnectRequest with timeOut 0 and an empty password.
TOKIO_CLIENT_DIR="$REPO_DIR/tools/tokio-zk-client"
build_tokio_client() {
    command -v cargo >/dev/null 2>&1 || die "cargo is needed for the tokio-zookeeper scenario"
    log "building tools/tokio-zk-client"
    cargo build --release --quiet --manifest-path "$TOKIO_CLIENT_DIR/Cargo.toml" \
        || die "tokio-zk-client does not build"
}
scenario_tokio() {
    "$TOKIO_CLIENT_DIR/target/release/tokio-zk-client" "$HOST:$PORT" >"$WORK/tokio.log" 2>&1 \
        || { cat "$WORK/tokio.log" >&2; die "tokio-zookeeper scenario failed"; }
}

# ------------------------------------------------------------------ checks
# check NAME zk_summarize-args...: sanity checks + summary
check() {
    local name=$1; shift
    local f="$OUT_DIR/$name"
    [ -s "$f" ] || die "$name: not written"
    local frames size c2s s2c syns streams
    frames=$(capinfos -M -c "$f" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
    size=$(stat -c %s "$f")
    c2s=$(tsh -n -r "$f" -Y "tcp.dstport == $PORT && tcp.len > 0" | wc -l)
    s2c=$(tsh -n -r "$f" -Y "tcp.srcport == $PORT && tcp.len > 0" | wc -l)
    syns=$(tsh -n -r "$f" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" | wc -l)
    streams=$(tsh -n -r "$f" -T fields -e tcp.stream | sort -u | wc -l)
    printf '\n== %s: %s frames, %s bytes; payload segments client->server %s, server->client %s; %s TCP connections (%s SYNs)\n' \
        "$name" "$frames" "$size" "$c2s" "$s2c" "$streams" "$syns"
    tsh -n -r "$f" -q -z conv,tcp | grep -E '\||<->' | sed 's/^/   /'
    [ "$c2s" -gt 0 ] && [ "$s2c" -gt 0 ] || die "$name: no TCP payload in both directions on port $PORT"
    [ "$syns" -eq "$streams" ] || die "$name: some connection started before the capture"
    [ "$size" -le "$MAX_BYTES" ] || die "$name: too big ($size bytes)"
    "$PY" "$SCRIPT_DIR/zk_summarize.py" "$f" --port "$PORT" "$@" || die "$name: content check failed"
}

# check_tls NAME: stock tshark decrypts the capture's application data with the key log
# beside it (the ZooKeeper PDUs inside are checked by the tshark tests, with the plugin)
check_tls() {
    local name=$1 f="$OUT_DIR/$1" keys="$OUT_DIR/${1%.pcapng}.keys" hello decrypted
    [ -s "$f" ] && [ -s "$keys" ] || die "$name: capture or key log not written"
    hello=$(tsh -n -r "$f" -Y "tls.handshake.type == 1 && tcp.dstport == $TLS_PORT" | wc -l)
    decrypted=$(tsh -n -r "$f" -o "tls.keylog_file:$keys" -d "tls.port==$TLS_PORT,data" \
        -Y "data && tcp.port == $TLS_PORT" | wc -l)
    printf '\n== %s: %s ClientHello, %s frames of decrypted application data\n' "$name" "$hello" "$decrypted"
    [ "$hello" -ge 1 ] && [ "$decrypted" -ge 10 ] || die "$name: no decryptable TLS session on $TLS_PORT"
}

# -------------------------------------------------------------------- main
case "$WORK" in /tmp/?*|/var/tmp/?*) ;; *) die "ZK_RECORD_WORKDIR must be below /tmp or /var/tmp" ;; esac
rm -rf "$WORK"
mkdir -p "$WORK"
# ZK_ONLY="zkcli kazoo-watches" records only those captures (default: all).
only() { [ -z "${ZK_ONLY:-}" ] || [[ " $ZK_ONLY " == *" $1 "* ]]; }
only kazoo-basic   && capture kazoo-basic.pcapng   scenario_kazoo
only kazoo-watches && capture kazoo-watches.pcapng scenario_kazoo_watches
only zkcli         && capture zkcli.pcapng         scenario_zkcli
only cli_mt        && capture cli_mt.pcapng        scenario_cli_mt
only fourletter    && capture fourletter.pcapng    scenario_fourletter
only kazoo-tls     && capture kazoo-tls.pcapng     scenario_kazoo_tls
only zkcli-sasl    && capture zkcli-sasl.pcapng    scenario_zkcli_sasl
only tokio-zookeeper && build_tokio_client && capture tokio-zookeeper.pcapng scenario_tokio

log "=== summary (captures in ${OUT_DIR#"$REPO_DIR"/})"
only kazoo-watches && check kazoo-watches.pcapng \
    --expect-ops connect,create,getData,exists,getChildren,setData,delete,checkWatches,addWatch,multi,multiRead,multi/check,multiRead/getData,setWatches,setWatches2,closeSession \
    --expect-errs NONODE \
    --expect-events NodeCreated,NodeDeleted,NodeDataChanged,NodeChildrenChanged
only kazoo-basic && check kazoo-basic.pcapng \
    --expect-ops connect,create,create2,createContainer,createTTL,exists,getData,setData,getChildren,getChildren2,delete,getACL,setACL,sync,auth,ping,closeSession \
    --expect-errs NONODE,NODEEXISTS,NOTEMPTY,BADVERSION,NOAUTH \
    --expect-events NodeCreated,NodeDeleted,NodeDataChanged,NodeChildrenChanged
only zkcli && check zkcli.pcapng \
    --expect-ops connect,create,createContainer,createTTL,exists,getData,setData,getChildren,getChildren2,getACL,setACL,auth,sync,delete,multi,whoAmI,getEphemerals,getAllChildrenNumber,addWatch,removeWatches,reconfig,closeSession \
    --expect-errs NONODE,NODEEXISTS,NOTEMPTY,BADVERSION,NOAUTH \
    --expect-events NodeDataChanged,NodeChildrenChanged,NodeCreated
only cli_mt && check cli_mt.pcapng \
    --expect-ops connect,create,create2,createContainer,createTTL,exists,getData,setData,getChildren,getChildren2,delete,sync,auth,closeSession \
    --expect-errs NONODE,NODEEXISTS,NOTEMPTY \
    --expect-events NodeDataChanged,NodeChildrenChanged,NodeDeleted
only fourletter && check fourletter.pcapng \
    --expect-4lw ruok,stat,srvr,conf,cons,mntr,envi,isro,wchs,dirs,stmk,gtmk
only kazoo-tls && check_tls kazoo-tls.pcapng
only zkcli-sasl && check zkcli-sasl.pcapng \
    --expect-ops connect,sasl,create,getACL,getData,whoAmI,closeSession \
    --expect-errs AUTHFAILED
only tokio-zookeeper && check tokio-zookeeper.pcapng \
    --expect-ops connect,create,exists,getData,setData,getChildren,getACL,multi,delete,closeSession \
    --expect-errs NONODE \
    --expect-events NodeDataChanged

printf '\n[record] all captures OK in %s s\n' "$((SECONDS - START_TIME))"
