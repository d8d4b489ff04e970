//! The Wireshark GUI (wireshark-qt) starts with the plugin and opens our captures.
//!
//! Under a private Xvfb, `wireshark -r CAPTURE -Y FILTER` runs as an unprivileged user (root
//! ignores personal plugins) with a temporary HOME holding the plugin. Passing means, within
//! 60 s:
//! - a main window titled after the capture appears: Wireshark only opens the file when the
//!   display filter (`zookeeper`, `h2`) is valid, which it is only with our protocols
//!   registered; without the plugin it shows an "isn't a valid display filter" dialog over the
//!   welcome screen instead (checked below, so that this test can fail);
//! - `libzkh2.so` from that HOME is mapped in the process (a version-mismatched plugin is
//!   unloaded again);
//! - Wireshark printed nothing on stderr but the harmless "nl80211 not found." (no plugin load
//!   error, no dissector warning, no Qt warning).
//!
//! The GUI 4.0 binary has no `-G plugins` (tshark's is tested in every tshark test).
//! Skipped with a note when wireshark, Xvfb or xdotool is missing
//! (`apt-get install wireshark-qt xvfb xdotool`; `.ci/run` installs them).

#[allow(unused_imports)]
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{is_root, plugin_path, repo, ws_major_minor};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn missing_tools() -> Vec<&'static str> {
    ["wireshark", "Xvfb", "xdotool", "setpriv"]
        .into_iter()
        .filter(|t| !have(t))
        .collect()
}

/// Kills (by pid) and reaps a child we started, when dropped.
struct Reap(Child);
impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private X server on a free display (Xvfb -displayfd reports the number it took).
struct Xvfb {
    _proc: Reap,
    display: String,
}

fn start_xvfb() -> Xvfb {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Xvfb");
    let mut out = child.stdout.take().expect("Xvfb stdout");
    let mut num = String::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        num.push(byte[0] as char);
    }
    assert!(!num.is_empty(), "Xvfb did not report a display");
    Xvfb {
        _proc: Reap(child),
        display: format!(":{}", num.trim()),
    }
}

/// A throw-away HOME, optionally with the plugin in its personal plugin folder, readable and
/// owned by the user Wireshark runs as.
fn make_home(tag: &str, with_plugin: bool) -> PathBuf {
    let home = std::env::temp_dir().join(format!("zkh2-gui-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let plugins = home
        .join(".local/lib/wireshark/plugins")
        .join(ws_major_minor())
        .join("epan");
    std::fs::create_dir_all(&plugins).expect("create HOME");
    std::fs::create_dir_all(home.join("run")).expect("create runtime dir");
    if with_plugin {
        std::fs::copy(plugin_path(), plugins.join("libzkh2.so")).expect("copy plugin");
    }
    // Keep the main window small and skip the "running as root" nag.
    let conf = home.join(".config/wireshark");
    std::fs::create_dir_all(&conf).expect("create profile");
    std::fs::write(
        conf.join("recent_common"),
        "gui.geometry_main_width: 1200\ngui.geometry_main_height: 850\nprivs.warn_if_elevated: FALSE\n",
    )
    .expect("write recent_common");
    assert!(
        Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(&home)
            .status()
            .expect("chmod")
            .success()
    );
    assert!(
        Command::new("chmod")
            .arg("0700")
            .arg(home.join("run"))
            .status()
            .expect("chmod")
            .success()
    );
    if is_root() {
        assert!(
            Command::new("chown")
                .args(["-R", "65534:65534"])
                .arg(&home)
                .status()
                .expect("chown")
                .success()
        );
    }
    home
}

fn spawn_wireshark(display: &str, home: &Path, capture: &Path, filter: &str) -> Reap {
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "wireshark",
        ]);
        c
    } else {
        Command::new("wireshark")
    };
    cmd.arg("-r")
        .arg(capture)
        .args(["-Y", filter])
        .env("DISPLAY", display)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("LC_ALL", "C.UTF-8")
        .env("QT_QPA_PLATFORM", "xcb")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Reap(cmd.spawn().expect("start wireshark"))
}

/// Names of the visible top-level windows.
fn window_names(display: &str) -> Vec<String> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", "."])
        .env("DISPLAY", display)
        .output()
        .expect("xdotool search");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|id| {
            let o = Command::new("xdotool")
                .args(["getwindowname", id.trim()])
                .env("DISPLAY", display)
                .output()
                .ok()?;
            Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
        .collect()
}

/// Waits up to `limit` for a window whose name contains `needle`; returns the names seen last.
fn wait_for_window(display: &str, needle: &str, limit: Duration) -> Result<(), Vec<String>> {
    let start = Instant::now();
    loop {
        let names = window_names(display);
        if names.iter().any(|n| n.contains(needle)) {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(names);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Stops Wireshark and returns what it printed on stderr.
fn stop(mut ws: Reap) -> String {
    let _ = ws.0.kill();
    let mut err = String::new();
    if let Some(mut e) = ws.0.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let _ = ws.0.wait();
    err
}

fn unexpected_stderr(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "nl80211 not found.")
        .collect()
}

fn opens_with_plugin(capture: &str, filter: &str) {
    let missing = missing_tools();
    if !missing.is_empty() {
        eprintln!(
            "gui: skipped, missing {missing:?} (apt-get install wireshark-qt xvfb xdotool util-linux)"
        );
        return;
    }
    let x = start_xvfb();
    let home = make_home(filter, true);
    let capture = repo().join(capture);
    let base = capture
        .file_name()
        .and_then(|n| n.to_str())
        .expect("capture name")
        .to_string();
    let ws = spawn_wireshark(&x.display, &home, &capture, filter);
    let pid = ws.0.id();
    let shown = wait_for_window(&x.display, &base, Duration::from_secs(60));
    // Give the dissection of the whole file a moment to report anything on stderr.
    std::thread::sleep(Duration::from_secs(2));
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let err = stop(ws);
    let _ = std::fs::remove_dir_all(&home);
    if let Err(names) = shown {
        panic!(
            "no Wireshark window for {base} with -Y {filter} within 60 s (windows: {names:?}); stderr:\n{err}"
        );
    }
    let plugin_in_home = format!("{}/.local/lib/wireshark/plugins", home.display());
    assert!(
        maps.lines()
            .any(|l| l.contains(&plugin_in_home) && l.ends_with("libzkh2.so")),
        "libzkh2.so from the test HOME is not mapped in wireshark (pid {pid})"
    );
    let bad = unexpected_stderr(&err);
    assert!(
        bad.is_empty(),
        "wireshark printed on stderr:\n{}",
        bad.join("\n")
    );
}

#[test]
fn gui_opens_zookeeper_capture_with_plugin() {
    opens_with_plugin("tests/captures/zookeeper/kazoo-basic.pcapng", "zookeeper");
}

#[test]
fn gui_opens_h2_capture_with_plugin() {
    opens_with_plugin("tests/captures/h2/nghttp-prior-knowledge.pcapng", "h2");
}

/// The control: the same start without the plugin must not open the file (the filter is
/// invalid), so the window check above means something.
#[test]
fn gui_without_plugin_rejects_the_filter() {
    let missing = missing_tools();
    if !missing.is_empty() {
        eprintln!("gui: skipped, missing {missing:?}");
        return;
    }
    let x = start_xvfb();
    let home = make_home("control", false);
    let capture = repo().join("tests/captures/zookeeper/kazoo-basic.pcapng");
    let ws = spawn_wireshark(&x.display, &home, &capture, "zookeeper");
    // The welcome window comes up first, then the filter is checked.
    let started = wait_for_window(&x.display, "Wireshark", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(4));
    let names = window_names(&x.display);
    let _ = stop(ws);
    let _ = std::fs::remove_dir_all(&home);
    assert!(started.is_ok(), "wireshark did not start: {started:?}");
    assert!(
        !names.iter().any(|n| n.contains("kazoo-basic.pcapng")),
        "without the plugin, Wireshark still opened the capture with -Y zookeeper: {names:?}"
    );
}
