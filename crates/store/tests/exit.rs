//! A process that drops an open store and exits must exit cleanly: sqlx closes
//! SQLite connections on worker threads while SQLCipher frees its state at
//! exit, and without the store's exit handler about one exit in twenty died by
//! SIGSEGV. This binary runs itself a hundred times to open and drop a store.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use store::{Store, StoreKey};

const CHILD: &str = "opens_and_drops_a_store_then_exits";

/// Run only as the child of the test below.
#[tokio::test]
#[ignore = "run by a_process_that_drops_an_open_store_exits_cleanly"]
async fn opens_and_drops_a_store_then_exits() {
    let folder = std::env::var_os("CWS_EXIT_TEST_FOLDER").expect("a folder from the parent");
    // Several stores, each with connections busy, all dropped as the test ends.
    let mut stores = Vec::new();
    for n in 0..6 {
        let path = std::path::Path::new(&folder).join(format!("store-{}-{n}.db", std::process::id()));
        let store = Store::create_with_key(&path, StoreKey::generate().expect("key")).await.expect("store");
        let (a, b) = (store.audit(), store.audit());
        let (first, second) = tokio::join!(a.verify(), b.verify());
        first.expect("verified");
        second.expect("verified");
        stores.push(store);
    }
    drop(stores);
}

#[test]
fn a_process_that_drops_an_open_store_exits_cleanly() {
    let folder = tempfile::tempdir().expect("folder");
    let me = std::env::current_exe().expect("this test binary");
    for run in 0..100 {
        let status = Command::new(&me)
            .args(["--ignored", "--exact", CHILD, "--quiet"])
            .env("CWS_EXIT_TEST_FOLDER", folder.path())
            .output()
            .expect("the child runs");
        assert!(
            status.status.success(),
            "run {run} ended with {:?} (signal {:?}): {}",
            status.status.code(),
            status.status.signal(),
            String::from_utf8_lossy(&status.stdout)
        );
    }
}
