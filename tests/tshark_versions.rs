//! The normalisation that lets one set of expected files (recorded with tshark 4.0) serve
//! Wireshark 4.4 and 4.6 too (`tests/support/normalize.rs`), checked on lines that tshark 4.0.17,
//! 4.4.18 and 4.6.9 really print for the same packets of our captures.

#[path = "support/normalize.rs"]
mod normalize;

use std::collections::HashSet;

use normalize::{boolean_fields_of, canonical, stdout};

/// (what, tshark 4.0.17, tshark 4.4.18 or 4.6.9)
const SAME_TREE: &[(&str, &str, &str)] = &[
    (
        "a string label over the label limit",
        r#"    Four-letter word response [truncated]: Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nClients:\n /127.0.0.1:39892[0](queued=0,recved=1,sent=0)\n\nLatency min/avg/max: 0/0.0/0\nReceived: 4\nSent: 3\nConnection"#,
        r#"    Four-letter word response […]: Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nClients:\n /127.0.0.1:39892[0](queued=0,recved=1,sent=0)\n\nLatency min/avg/max: 0/0.0/0\nReceived: 4\nSent: 3\nConnections: 1\nO"#,
    ),
    (
        "tcp's reassembly line, marker in front",
        r#"[49 Reassembled TCP Segments (49 bytes): #4(1), #5(1), #6(1), #7(1), #8(1), #9(1), #10(1), #11(1), #12(1), #13(1), #14(1), #15(1), #16(1), #17(1), #18(1), #19(1), #20(1), #21(1), #22(1), #23(1), #24(1), #25(1), #26(1), #27(1), #28(1), #29(1]"#,
        r#"[[…] 49 Reassembled TCP Segments (49 bytes): #4(1), #5(1), #6(1), #7(1), #8(1), #9(1), #10(1), #11(1), #12(1), #13(1), #14(1), #15(1), #16(1), #17(1), #18(1), #19(1), #20(1), #21(1), #22(1), #23(1), #24(1), #25(1), #26(1), #27(1), #28(1),]"#,
    ),
    (
        "tcp's reassembly line, cut at another length",
        r#"[41 Reassembled TCP Segments (41 bytes): #53(1), #54(1), #55(1), #56(1), #57(1), #58(1), #59(1), #60(1), #61(1), #62(1), #63(1), #64(1), #65(1), #66(1), #67(1), #68(1), #69(1), #70(1), #71(1), #72(1), #73(1), #74(1), #75(1), #76(1), #77(1),]"#,
        r#"[41 Reassembled TCP Segments (41 bytes): #53(1), #54(1), #55(1), #56(1), #57(1), #58(1), #59(1), #60(1), #61(1), #62(1), #63(1), #64(1), #65(1), #66(1), #67(1), #68(1), #69(1), #70(1), #71(1), #72(1), #73(1), #74(1), #75(1), #76(1), #77(1)]"#,
    ),
    (
        "a byte field over 36 bytes",
        r#"    Data: 00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5…"#,
        r#"    Data […]: 00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb0209101"#,
    ),
    (
        "a tab in the Info column",
        r#"   65 0.619640096    127.0.0.1 → 127.0.0.1    ZooKeeper 8258 four-letter word response: zk_version	3.8.0-${mvngit.commit.id}, built on 2024-12-29 17"#,
        r#"   65 0.619640096    127.0.0.1 → 127.0.0.1    ZooKeeper 8258 four-letter word response: zk_version\t3.8.0-${mvngit.commit.id}, built on 2024-12-29 17"#,
    ),
    (
        "4.6: the frame line",
        r#"Frame 29: 101 bytes on wire (808 bits), 101 bytes captured (808 bits) on interface lo, id 0"#,
        r#"Frame 29: Packet, 101 bytes on wire (808 bits), 101 bytes captured (808 bits) on interface lo, id 0"#,
    ),
    (
        "4.6: a relative time in milliseconds",
        r#"    [Time: 0.001000000 seconds]"#,
        r#"    [Time: 1.000000 milliseconds]"#,
    ),
    (
        "4.6: a relative time in microseconds",
        r#"    [Time since request: 0.000122046 seconds]"#,
        r#"    [Time since request: 122.046 microseconds]"#,
    ),
    (
        "4.6: tcp's reassembly line lists a retransmitted copy",
        r#"[2 Reassembled TCP Segments (186 bytes): #1073(4), #1074(182)]"#,
        r#"[3 Reassembled TCP Segments (186 bytes): #1073(4), #1074(182), #1075(182)]"#,
    ),
    (
        "4.6: the built-in JSON dissector's name in the Info column",
        r#"   21 0.014046603    127.0.0.1 → 127.0.0.1    H2/JSON 133 DATA[1] (application/json), JavaScript Object Notation (application/json)"#,
        r#"   21 0.014046603    127.0.0.1 → 127.0.0.1    H2/JSON 133 DATA[1] (application/json), JSON (application/json)"#,
    ),
    (
        "4.2+: protobuf under gRPC names the message type in the Protocol column",
        r#"   30 0.141078295    127.0.0.1 → 127.0.0.1    GRPC 304 Magic, SETTINGS[0], HEADERS[13]: POST /grpc/helloworld.Greeter/SayHello, DATA[13] (GRPC) (PROTOBUF)"#,
        r#"   30 0.141078295    127.0.0.1 → 127.0.0.1    GRPC/PB(<UNKNOWN>) 304 Magic, SETTINGS[0], HEADERS[13]: POST /grpc/helloworld.Greeter/SayHello, DATA[13] (GRPC) (PROTOBUF)"#,
    ),
];

#[test]
fn version_specific_renderings_of_the_same_tree_compare_equal() {
    for (what, v40, v44) in SAME_TREE {
        assert_ne!(v40, v44, "{what}: the sample lines should differ");
        assert_eq!(canonical(v40), canonical(v44), "{what}");
    }
}

#[test]
fn canonical_still_sees_real_differences() {
    // Not truncated: every character counts.
    assert_ne!(
        canonical("    Path: /config/app"),
        canonical("    Path: /config/apq")
    );
    // Truncated: the first 72 characters still count.
    let a = "    Data […]: 00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc03";
    let b = "    Data […]: 00170e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc03";
    assert_ne!(canonical(a), canonical(b));
    // Times are converted exactly, not rounded.
    assert_ne!(
        canonical("    [Time: 1.000001 milliseconds]"),
        canonical("    [Time: 0.001000000 seconds]")
    );
    assert_eq!(
        canonical("    [Time: 2 seconds] (500 nanoseconds)"),
        "    [Time: 2.000000000 seconds] (0.000000500 seconds)"
    );
    // Numbers that are part of a word are not times.
    assert_eq!(canonical("x1.5 seconds"), "x1.5 seconds");
    // Reassembly lines keep their length.
    assert_ne!(
        canonical("[2 Reassembled TCP Segments (186 bytes): #1(4), #2(182)]"),
        canonical("[2 Reassembled TCP Segments (185 bytes): #1(4), #2(181)]")
    );
    // Lines are kept as lines, and short lines unchanged.
    assert_eq!(canonical("a\nb: c\n"), "a\nb: c\n");
    assert_eq!(canonical("x\n\ny\n"), "x\n\ny\n");
}

#[test]
fn protocols_listing_keeps_three_columns() {
    let v44 = "ZooKeeper\tZooKeeper\tzookeeper\tT\tT\tT\nHyperText Transfer Protocol 2\tHTTP2\thttp2\tT\tT\tT\n";
    let v40 = "ZooKeeper\tZooKeeper\tzookeeper\nHyperText Transfer Protocol 2\tHTTP2\thttp2\n";
    let args = ["-G", "protocols"];
    assert_eq!(stdout(&args, v44.into(), HashSet::new), v40);
    assert_eq!(stdout(&args, v40.into(), HashSet::new), v40);
}

#[test]
fn boolean_fields_print_as_numbers() {
    let g = "P\tZooKeeper\tzookeeper\n\
             F\tResponse\tzookeeper.response\tFT_BOOLEAN\tzookeeper\t8\t0x0\tSent by the server\n\
             F\tPath\tzookeeper.path\tFT_STRING\tzookeeper\tBASE_NONE\t0x0\tZnode path\n";
    let booleans = boolean_fields_of(g);
    assert_eq!(booleans, HashSet::from(["zookeeper.response".to_string()]));
    // What 4.4.18 prints for `-e zookeeper.response -e zookeeper.path -e zookeeper.watch`.
    let args = [
        "-r",
        "x.pcap",
        "-T",
        "fields",
        "-e",
        "zookeeper.response",
        "-e",
        "zookeeper.path",
    ];
    let out = "False\t/missing\nTrue,False\tTrue\n\t/a\n";
    assert_eq!(
        stdout(&args, out.into(), || booleans.clone()),
        "0\t/missing\n1,0\tTrue\n\t/a\n",
        "only boolean fields are mapped"
    );
    let args = [
        "-T",
        "fields",
        "-E",
        "separator=;",
        "-E",
        "aggregator=|",
        "-E",
        "quote=d",
        "-E",
        "header=y",
        "-e",
        "zookeeper.path",
        "-e",
        "zookeeper.response",
    ];
    let out = "zookeeper.path;zookeeper.response\n\"/a\";\"True\"|\"False\"\n";
    assert_eq!(
        stdout(&args, out.into(), || booleans.clone()),
        "zookeeper.path;zookeeper.response\n\"/a\";\"1\"|\"0\"\n"
    );
    // Other outputs are untouched, and the field list is not even asked for.
    let json = "{\"zookeeper.response\": \"True\"}\n";
    assert_eq!(
        stdout(&["-T", "json"], json.into(), || unreachable!()),
        json
    );
}
