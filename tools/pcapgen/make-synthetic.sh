#!/usr/bin/env bash
# Regenerates the synthetic ZooKeeper captures in tests/captures/synthetic/ from one real
# capture, by re-cutting its TCP segments with pcapgen. The output is deterministic: the same
# input always gives byte-identical files.
#
# Usage: tools/pcapgen/make-synthetic.sh            (from anywhere inside the repository)
#        INPUT=path/to/capture.pcapng tools/pcapgen/make-synthetic.sh
set -euo pipefail

# --- Input -------------------------------------------------------------------------------
# The real capture to re-cut (pcap or pcapng), relative to the repository root, and the
# ZooKeeper server port in it. If INPUT does not exist yet, STANDIN is used instead.
INPUT="${INPUT:-tests/captures/zookeeper/kazoo-basic.pcapng}"
STANDIN="${STANDIN:-../shared/pcaps/zookeeper/zktraffic-cpp/basic.pcap}"
SERVER_PORT="${SERVER_PORT:-2181}"
CONVERSATION="${CONVERSATION:-0}"   # which TCP connection of the input (see `pcapgen info`)
OUT_DIR="tests/captures/synthetic"
# -------------------------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if [[ ! -f "$INPUT" ]]; then
    echo "make-synthetic: $INPUT not found, using stand-in $STANDIN" >&2
    INPUT="$STANDIN"
fi

cargo build --quiet -p pcapgen
pcapgen() { cargo run --quiet -p pcapgen -- "$@"; }   # respects CARGO_TARGET_DIR
mkdir -p "$OUT_DIR"

common=(--in "$INPUT" --server-port "$SERVER_PORT" --conversation "$CONVERSATION")

# The ConnectRequest (client message 0) and the request after it (client message 1), each
# split at every byte offset: one TCP connection per offset, replaying the conversation up to
# the split message and its reply.
pcapgen split-at-every-offset "${common[@]}" --pdu-index 0 --pdu-index 1 \
    --out "$OUT_DIR/zk-split-every-offset.pcap"

# The conversation (first 30 messages) moved to server port 2182, where only the heuristic
# (or Decode As) can find it.
pcapgen resplit "${common[@]}" --max-messages 30 --piece 65495 --server-port-out 2182 \
    --out "$OUT_DIR/zk-port-2182.pcap"

# The conversation (first 30 messages) re-sent one byte per segment.
pcapgen resplit "${common[@]}" --max-messages 30 --piece 1 \
    --out "$OUT_DIR/zk-one-byte-segments.pcap"

# After the real ConnectRequest / ConnectResponse: 1000 pings in one segment, then 1000 ping
# replies in one segment. The ping and its reply are taken from the capture; if it has none,
# the standard ping and a reply with zxid 1 are used.
PING="00000008fffffffe0000000b"
PING_REPLY_PREFIX="00000010fffffffe"
if ! pcapgen many-in-one "${common[@]}" --prefix 2 --count 1000 \
    --request-matching "$PING" --reply-matching "$PING_REPLY_PREFIX" \
    --out "$OUT_DIR/zk-1000-pdus-one-segment.pcap"; then
    echo "make-synthetic: no ping in the capture, using literal ping payloads" >&2
    pcapgen many-in-one "${common[@]}" --prefix 2 --count 1000 \
        --request-payload "$PING" \
        --reply-payload "${PING_REPLY_PREFIX}000000000000000100000000" \
        --out "$OUT_DIR/zk-1000-pdus-one-segment.pcap"
fi

# The first request after the connect handshake (message 2) sent twice in a row.
pcapgen retransmit "${common[@]}" --max-messages 30 --segment 2 \
    --out "$OUT_DIR/zk-retransmission.pcap"

# No handshake, no ConnectRequest / ConnectResponse, and the first 5 bytes of the next
# message cut off: the capture starts in the middle of a PDU.
pcapgen midstream "${common[@]}" --max-messages 30 --skip-messages 2 --skip-bytes 5 \
    --out "$OUT_DIR/zk-midstream.pcap"

# Consecutive same-direction messages merged into one segment each.
pcapgen coalesce "${common[@]}" \
    --out "$OUT_DIR/zk-coalesced.pcap"

ls -l "$OUT_DIR"/zk-*.pcap
