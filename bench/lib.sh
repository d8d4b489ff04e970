# Shared by bench/gen-*.sh (sourced once WORK and OUT are set; the caller sets LOG_TAG and
# SRV_PID): the server and dumpcap are stopped and the work dir removed on exit.
SRV_PID="" DUMPCAP_PID=""
log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
cleanup() {
  [ -n "$DUMPCAP_PID" ] && { kill -INT "$DUMPCAP_PID" 2>/dev/null || true; wait "$DUMPCAP_PID" 2>/dev/null || true; }
  [ -n "$SRV_PID" ] && { kill -TERM "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { log "needs root (dumpcap on lo)"; exit 1; }

# start_capture PORT BUFFER_MIB FILE: dumpcap on lo (tcp port PORT) into FILE, once it runs
start_capture() {
  dumpcap -q -i lo -B "$2" -f "tcp port $1" -w "$3" >"$WORK/dumpcap.log" 2>&1 &
  DUMPCAP_PID=$!
  for _ in $(seq 100); do [ -s "$3" ] && break; sleep 0.1; done
  sleep 1
}

stop_capture() {
  kill -INT "$DUMPCAP_PID"; wait "$DUMPCAP_PID" || true; DUMPCAP_PID=""
}

# keep_scaled FILE NAME: FILE becomes $OUT/NAME-4x.pcapng, its first half (by packet count)
# NAME-2x and its first quarter NAME-1x. The readiness probes ended before dumpcap started,
# so every connection is complete (filtering on tcp.stream here would cost a full tshark
# pass over the capture).
keep_scaled() {
  local raw=$1 name=$2 n s
  mv -f "$raw" "$OUT/$name-4x.pcapng"
  n=$(capinfos -c -M "$OUT/$name-4x.pcapng" | awk '/Number of packets/ {print $NF}')
  editcap -r "$OUT/$name-4x.pcapng" "$OUT/$name-2x.pcapng" "1-$((n / 2))"
  editcap -r "$OUT/$name-4x.pcapng" "$OUT/$name-1x.pcapng" "1-$((n / 4))"
  chmod 0644 "$OUT"/"$name"-*.pcapng
  for s in 1x 2x 4x; do
    log "$name-$s.pcapng: $(capinfos -c -M "$OUT/$name-$s.pcapng" | awk '/Number of packets/ {print $NF}') packets, $(du -h "$OUT/$name-$s.pcapng" | cut -f1)"
  done
}
