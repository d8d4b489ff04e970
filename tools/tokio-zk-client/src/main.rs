//! Drives a ZooKeeper server with tokio-zookeeper 0.4 (its ConnectRequest is 29 bytes:
//! timeOut 0, an empty password and readOnly), for the golden capture
//! `tests/captures/zookeeper/tokio-zookeeper.pcapng` (tests/record/record-zookeeper.sh).
//!
//! connect, create, exists with a watch, getData, setData (which fires the watch),
//! getChildren, getACL, a missing node, a failing multi, delete, close.
//!
//!     tokio-zk-client 127.0.0.1:2181

use std::time::Duration;

use tokio_zookeeper::{Acl, CreateMode, WatchedEventType, ZooKeeper};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:2181".to_string())
        .parse()
        .expect("host:port");
    let (zk, default_watcher) = ZooKeeper::connect(&addr).await.expect("connect");
    drop(default_watcher);

    let path = zk
        .create(
            "/tokio",
            &b"hello"[..],
            Acl::open_unsafe(),
            CreateMode::Persistent,
        )
        .await
        .expect("create call")
        .expect("create");
    assert_eq!(path, "/tokio");

    let (watch, stat) = zk.with_watcher().exists("/tokio").await.expect("exists");
    assert!(stat.is_some());
    let (data, _) = zk.get_data("/tokio").await.expect("getData").expect("node");
    assert_eq!(data, b"hello");
    zk.set_data("/tokio", None, &b"world"[..])
        .await
        .expect("setData call")
        .expect("setData");
    let event = tokio::time::timeout(Duration::from_secs(5), watch)
        .await
        .expect("watch fired in time")
        .expect("watch event");
    assert_eq!(event.event_type, WatchedEventType::NodeDataChanged);

    let children = zk.get_children("/").await.expect("getChildren");
    assert!(children.is_some());
    let acl = zk.get_acl("/tokio").await.expect("getACL call");
    assert!(acl.is_ok());
    let missing = zk
        .get_data("/tokio-missing")
        .await
        .expect("getData missing");
    assert!(missing.is_none());

    // A multi whose second op fails (the node exists): nothing is applied.
    let results = zk
        .multi()
        .create(
            "/tokio/a",
            &b""[..],
            Acl::open_unsafe(),
            CreateMode::Persistent,
        )
        .create(
            "/tokio",
            &b""[..],
            Acl::open_unsafe(),
            CreateMode::Persistent,
        )
        .run()
        .await
        .expect("multi call");
    assert!(results.iter().any(|r| r.is_err()));

    zk.delete("/tokio", None)
        .await
        .expect("delete call")
        .expect("delete");
    drop(zk);
    // The client closes its session when dropped; give it time to send closeSession.
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("tokio-zookeeper scenario done");
}
