//! The Debian package: `scripts/build-deb` packages the plugin under test, `apt-get install
//! ./x.deb` installs it into Wireshark's global plugin folder, tshark run by a normal user
//! (uid 65534, a HOME without any plugin) lists and uses it, and `apt-get remove` takes it
//! away again, file and all.
//!
//! This changes the system (root, apt), so it only runs with `ZKH2_DEB_TEST=1` (`.ci/run`
//! sets it); otherwise it prints a note and passes. It refuses to run when the package is
//! already installed or a libzkh2.so not owned by it sits in the global folder (`scripts/install
//! --global`), rather than remove something it did not install.

#[allow(unused_imports)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{plugin_path, repo};

const PKG: &str = "wireshark-plugin-zkh2";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", PKG])
        .output()
        .map(|o| o.status.success() && o.stdout == b"installed")
        .unwrap_or(false)
}

fn apt(args: &[&str]) -> Output {
    run(Command::new("apt-get")
        .args(["-y", "-q"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Removes the package if a check fails half-way, so that a failed run leaves no plugin behind.
struct Uninstall;
impl Drop for Uninstall {
    fn drop(&mut self) {
        if installed() {
            let _ = Command::new("apt-get")
                .args(["-y", "-q", "purge", PKG])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
    }
}

/// tshark as uid 65534 with an empty HOME: only global plugins can load.
fn tshark_as_user(home: &Path, args: &[&str]) -> Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "tshark"])
        .args(args)
        .env("HOME", home)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run tshark")
}

#[test]
fn deb_installs_loads_and_removes_cleanly() {
    if std::env::var("ZKH2_DEB_TEST").as_deref() != Ok("1") {
        eprintln!(
            "deb: skipped (installs a package system-wide; set ZKH2_DEB_TEST=1, as .ci/run does)"
        );
        return;
    }
    let uid = text(&run(Command::new("id").arg("-u")));
    assert_eq!(
        uid.trim(),
        "0",
        "ZKH2_DEB_TEST=1 needs root (apt-get install)"
    );

    let plugindir = text(&run(
        Command::new("pkg-config").args(["--variable=plugindir", "wireshark"])
    ));
    let so = PathBuf::from(plugindir.trim()).join("epan/libzkh2.so");
    assert!(
        !installed(),
        "{PKG} is already installed: remove it first (apt-get remove {PKG})"
    );
    assert!(
        !so.exists(),
        "{} exists but not from the package (scripts/install --global?): remove it first",
        so.display()
    );

    // Package the plugin under test.
    let out_dir = std::env::temp_dir().join(format!("zkh2-deb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).expect("create out dir");
    let built = run(Command::new(repo().join("scripts/build-deb"))
        .args(["--no-build", "-o"])
        .arg(&out_dir)
        .env("ZKH2_PLUGIN", plugin_path()));
    let deb = PathBuf::from(text(&built).lines().last().expect("deb path").trim());
    assert!(deb.is_file(), "no .deb at {}", deb.display());

    // Its metadata: the exact libwireshark version, the global folder of this Wireshark.
    let depends = text(&run(Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Depends")));
    let libdir = text(&run(
        Command::new("pkg-config").args(["--variable=libdir", "wireshark"])
    ));
    let owner = text(&run(Command::new("dpkg-query").arg("-S").arg(
        std::fs::canonicalize(Path::new(libdir.trim()).join("libwireshark.so"))
            .expect("libwireshark.so"),
    )));
    let wspkg = owner.split(':').next().expect("owner").trim().to_string();
    let wsver = text(&run(Command::new("dpkg-query").args([
        "-W",
        "-f=${Version}",
        &wspkg,
    ])));
    let pin = format!("{wspkg} (= {wsver})");
    assert!(
        depends.contains(&pin),
        "Depends does not pin {pin}: {depends}"
    );
    let contents = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    assert!(
        contents.contains(&format!(".{}", so.display())),
        "the .deb does not install {}:\n{contents}",
        so.display()
    );

    // Install it the way a user would.
    let _guard = Uninstall;
    let deb_arg = deb.to_str().expect("utf-8 path").to_string();
    apt(&["install", &deb_arg]);
    assert!(installed(), "{PKG} not installed after apt-get install");
    assert!(so.is_file(), "{} missing after install", so.display());
    let owner = text(&run(Command::new("dpkg-query").arg("-S").arg(&so)));
    assert!(owner.starts_with(PKG), "{} owned by {owner}", so.display());

    // A normal user's tshark, with no personal plugin at all, loads it from the global folder.
    let home = std::env::temp_dir().join(format!("zkh2-deb-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("create HOME");
    let plugins = tshark_as_user(&home, &["-G", "plugins"]);
    let listed = String::from_utf8_lossy(&plugins.stdout);
    let line = listed
        .lines()
        .find(|l| l.starts_with("libzkh2.so"))
        .unwrap_or_else(|| panic!("tshark -G plugins does not list libzkh2.so:\n{listed}"));
    assert!(
        line.contains(&so.display().to_string()),
        "listed from elsewhere: {line}"
    );
    assert!(
        plugins.stderr.is_empty(),
        "tshark printed while loading plugins:\n{}",
        String::from_utf8_lossy(&plugins.stderr)
    );
    // And decodes with it (the capture must be readable by uid 65534, as in every tshark test).
    let capture = repo().join("tests/captures/zookeeper/kazoo-basic.pcapng");
    let decoded = tshark_as_user(
        &home,
        &[
            "-r",
            capture.to_str().expect("utf-8 path"),
            "-Y",
            "zookeeper.err == -101",
        ],
    );
    let lines = String::from_utf8_lossy(&decoded.stdout);
    assert!(
        lines.contains("exists reply NONODE /missing"),
        "the installed plugin does not decode kazoo-basic:\n{lines}\n{}",
        String::from_utf8_lossy(&decoded.stderr)
    );

    // Removal leaves nothing behind.
    apt(&["remove", PKG]);
    assert!(!installed(), "{PKG} still installed after apt-get remove");
    assert!(
        !so.exists(),
        "{} left behind by apt-get remove",
        so.display()
    );
    let after = tshark_as_user(&home, &["-G", "plugins"]);
    assert!(
        !String::from_utf8_lossy(&after.stdout).contains("libzkh2.so"),
        "tshark still lists libzkh2.so after removal"
    );
    // No conffiles, so dpkg forgets the package entirely (nothing left to purge).
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev}", PKG])
        .output()
        .expect("dpkg-query");
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.trim().is_empty() || status.starts_with("un"),
        "dpkg still records {PKG}: {status}"
    );
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&out_dir);
}
