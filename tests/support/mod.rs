//! The hermetic tshark runner shared by the tshark-based tests.
//!
//! Each `Tshark` gets a temporary HOME with the plugin in its personal plugin folder. When
//! the tests run as root, tshark runs as the unprivileged user 65534, because Wireshark
//! ignores personal plugins for root; without that every assertion would be hollow.
//! `Tshark::new` first asserts that the plugin is loaded and that loading it printed nothing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Normalises what tshark prints differently between Wireshark versions (see that file).
mod normalize;
// Not every test binary compares goldens.
#[allow(unused_imports)]
pub use normalize::canonical;

/// The ports of the ensemble captures (tests/record/record-ensemble.sh).
pub const ENSEMBLE_PREFS: [&str; 6] = [
    "-o",
    "zab.tcp.port:22888-22890",
    "-o",
    "zkelection.tcp.port:23888-23890",
    "-o",
    "zookeeper.tcp.port:22181-22183",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The plugin under test: `ZKH2_PLUGIN`, else the newest of target/{release,debug}.
pub fn plugin_path() -> PathBuf {
    if let Ok(p) = std::env::var("ZKH2_PLUGIN") {
        return PathBuf::from(p);
    }
    let candidates =
        ["target/release/libzkh2.so", "target/debug/libzkh2.so"].map(|c| repo().join(c));
    candidates
        .iter()
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .cloned()
        .expect("libzkh2.so not built: run `cargo build --release` first (scripts/test does)")
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// The installed Wireshark's (major, minor), from pkg-config.
pub fn ws_version() -> (u32, u32) {
    let v = ws_major_minor();
    let mut it = v.split('.').map(|p| p.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The installed Wireshark's "major.minor", from pkg-config.
pub fn ws_major_minor() -> String {
    let out = Command::new("pkg-config")
        .args(["--modversion", "wireshark"])
        .output()
        .expect("pkg-config");
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A temporary folder readable by the unprivileged tshark; removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::os::unix::fs::PermissionsExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zkh2-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Tshark {
    home: PathBuf,
    as_nobody: bool,
}

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Tshark {
    pub fn new() -> Tshark {
        Tshark::with_plugin(&plugin_path())
    }

    /// tshark without our plugin (the stock Wireshark), set up the same hermetic way: the
    /// side that parity and oracle tests compare against.
    pub fn stock() -> Tshark {
        let home = temp_home("stock");
        std::fs::create_dir_all(&home).expect("create stock HOME");
        let as_nobody = is_root();
        if as_nobody {
            run_on(&home, "chown", &["-R", "65534:65534"]);
        }
        Tshark { home, as_nobody }
    }

    /// Like `new`, with another build of the plugin (e.g. the panic-trigger test build).
    pub fn with_plugin(plugin: &Path) -> Tshark {
        let home = temp_home("test");
        let dir = home
            .join(".local/lib/wireshark/plugins")
            .join(ws_major_minor())
            .join("epan");
        std::fs::create_dir_all(&dir).expect("create plugin dir");
        std::fs::copy(plugin, dir.join("libzkh2.so")).expect("copy plugin");
        let as_nobody = is_root();
        run_on(&home, "chmod", &["-R", "a+rX"]);
        if as_nobody {
            run_on(&home, "chown", &["-R", "65534:65534"]);
        }
        let t = Tshark { home, as_nobody };
        let out = t.run(&["-G", "plugins"]);
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with("libzkh2.so") && l.contains("dissector")),
            "plugin not loaded by tshark:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        assert!(
            out.stderr.trim().is_empty(),
            "tshark printed errors while loading the plugin:\n{}",
            out.stderr
        );
        t
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Runs tshark with extra environment variables (setpriv keeps the environment).
    pub fn run_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let out = self.command(args, envs).output().expect("run tshark");
        Output {
            stdout: normalize::stdout(
                args,
                String::from_utf8_lossy(&out.stdout).into_owned(),
                || normalize::cached_boolean_fields(|| self.ok(&["-G", "fields"])),
            ),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status.code().unwrap_or(-1),
        }
    }

    /// The tshark command that `run_env` runs (setpriv execs tshark in the same process,
    /// so a caller that spawns it can measure tshark itself).
    pub fn command(&self, args: &[&str], envs: &[(&str, &str)]) -> Command {
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "tshark"]);
            c
        } else {
            Command::new("tshark")
        };
        cmd.args(args)
            .env("HOME", &self.home)
            .env("WIRESHARK_ABORT_ON_DISSECTOR_BUG", "1")
            .env("LC_ALL", "C.UTF-8")
            .env("TZ", "UTC")
            .envs(envs.iter().copied());
        cmd
    }

    /// Runs tshark and insists that it succeeded quietly.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status, 0, "tshark {args:?} failed:\n{}", out.stderr);
        assert!(
            out.stderr.trim().is_empty(),
            "tshark {args:?} printed on stderr:\n{}",
            out.stderr
        );
        out.stdout
    }

    /// `-T fields` output of a two-pass run: one line per frame matching `filter`, the
    /// `fields` tab-separated.
    pub fn fields(&self, capture: &Path, filter: &str, fields: &[&str]) -> String {
        let mut args = vec![
            "-r",
            capture.to_str().unwrap(),
            "-2",
            "-Y",
            filter,
            "-T",
            "fields",
        ];
        for f in fields {
            args.extend_from_slice(&["-e", f]);
        }
        self.ok(&args)
    }

    /// Every value of `field` (one per PDU, in order) in the frames matching `filter`.
    pub fn values(&self, capture: &Path, filter: &str, field: &str) -> Vec<String> {
        self.values_with(capture, &[], filter, field)
    }

    /// `values` with more options (`prefs`: `-o` preferences and the like) before the filter.
    pub fn values_with(
        &self,
        capture: &Path,
        prefs: &[&str],
        filter: &str,
        field: &str,
    ) -> Vec<String> {
        let mut args = vec!["-r", capture.to_str().unwrap(), "-2"];
        args.extend_from_slice(prefs);
        args.extend_from_slice(&[
            "-Y",
            filter,
            "-T",
            "fields",
            "-e",
            field,
            "-E",
            "aggregator=,",
        ]);
        let out = self.ok(&args);
        out.split([',', '\n'])
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Number of frames matching `filter` as a tap without a tree counts them
    /// (`-q -z io,stat,0,FILTER`): no printed tree and no columns, so the dissectors skip
    /// the items that nothing reads (`Tree::items_wanted`), and only the filter's own fields
    /// make them build the rest. (`-q -Y FILTER -w` is no such test: tshark then builds the
    /// columns.) `prefs` go before the statistic (`-d` rules, `-o` preferences); the filter
    /// must hold no comma.
    pub fn count_quiet(&self, capture: &Path, prefs: &[&str], filter: &str) -> usize {
        assert!(
            !filter.contains(','),
            "io,stat takes no comma in its filter: {filter}"
        );
        let stat = format!("io,stat,0,{filter}");
        let mut args = vec!["-r", capture.to_str().unwrap()];
        args.extend_from_slice(prefs);
        args.extend_from_slice(&["-q", "-z", &stat]);
        let out = self.ok(&args);
        // The one interval's row: "| 0.000 <> 0.026 |      5 |  1083 |".
        let row = out
            .lines()
            .find(|l| l.starts_with('|') && l.contains("<>"))
            .unwrap_or_else(|| panic!("no io,stat row for {filter}:\n{out}"));
        row.split('|')
            .nth(2)
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no frame count in {row:?}"))
    }

    /// Number of frames matching `filter` in one pass that prints their summary lines
    /// (columns are filled, so the dissectors build every item): what `count_quiet` must
    /// find as well.
    pub fn count_one_pass(&self, capture: &Path, prefs: &[&str], filter: &str) -> usize {
        let mut args = vec!["-r", capture.to_str().unwrap()];
        args.extend_from_slice(prefs);
        args.extend_from_slice(&["-Y", filter]);
        self.ok(&args).lines().count()
    }

    /// Number of lines tshark prints for the frames matching `filter`.
    pub fn count(&self, capture: &Path, filter: &str) -> usize {
        self.ok(&["-r", capture.to_str().unwrap(), "-2", "-Y", filter])
            .lines()
            .count()
    }
}

impl Drop for Tshark {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// A fresh path for a tshark HOME: `zkh2-{tag}-{pid}-{n}` in the temporary folder.
fn temp_home(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "zkh2-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Runs `program args... path` and insists that it succeeded (chmod, chown).
fn run_on(path: &Path, program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .arg(path)
        .status()
        .expect(program);
    assert!(status.success(), "{program} {args:?} {}", path.display());
}

/// Captures under `dir` (relative to the repo), sorted.
pub fn captures(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    v.sort();
    v
}

/// Fails with every report of `check_golden` there is.
pub fn assert_goldens(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "golden mismatches (ZKH2_BLESS=1 regenerates):\n{}",
        failures.join("\n")
    );
}

/// The count in a `-z ...,tree` statistics output on the line of the node `label`.
pub fn tree_count(out: &str, label: &str) -> Option<String> {
    out.lines()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| {
            l.trim_start()[label.len()..]
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
}

/// Compares `got` with the golden file `want_path` in the canonical form (which absorbs how
/// tshark 4.4/4.6 print the same tree), or writes it there when `ZKH2_BLESS` is set. A
/// mismatch comes back as a short report of the first differing line.
pub fn check_golden(capture: &Path, got: &str, want_path: &Path) -> Option<String> {
    if std::env::var_os("ZKH2_BLESS").is_some() {
        std::fs::create_dir_all(want_path.parent().expect("a parent dir")).expect("mkdir");
        std::fs::write(want_path, got).expect("write golden");
        return None;
    }
    let want = std::fs::read_to_string(want_path).unwrap_or_default();
    let (got, want) = (canonical(got), canonical(&want));
    if got == want {
        return None;
    }
    let line = got
        .lines()
        .zip(want.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
    Some(format!(
        "{}: differs from {} at (canonical) line {}:\n  got:  {}\n  want: {}",
        capture.display(),
        want_path.display(),
        line + 1,
        got.lines().nth(line).unwrap_or("<eof>"),
        want.lines().nth(line).unwrap_or("<eof>")
    ))
}
