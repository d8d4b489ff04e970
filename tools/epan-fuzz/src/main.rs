//! Replays inputs of the in-process fuzz targets through the same harness, without
//! libFuzzer, and optionally writes each one as a pcap file for Wireshark or tshark.
//!
//!     epan-fuzz-replay TARGET [--pcap DIR] FILE_OR_DIR...
//!
//! TARGET is `epan_zookeeper`, `epan_zab`, `epan_zkelection` or `epan_h2` (or the protocol
//! name alone). Prints one line per input: frames, frames that reached our protocols,
//! panics; with --pcap, also the command line (tshark with the plugin, scripts/tshark-plugin)
//! that dissects the pcap the same way
//! (both passes aside). Exit status 1 when an input panicked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use epan_fuzz::{Target, count_panics, run_capture};

fn inputs(p: &Path) -> Vec<PathBuf> {
    if p.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"));
        v.sort();
        v
    } else {
        vec![p.to_path_buf()]
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(target) = args.next().as_deref().and_then(Target::from_name) else {
        eprintln!("usage: epan-fuzz-replay TARGET [--pcap DIR] FILE_OR_DIR...");
        return ExitCode::from(2);
    };
    let mut pcap_dir: Option<PathBuf> = None;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        if a == "--pcap" {
            pcap_dir = args.next().map(PathBuf::from);
        } else {
            files.extend(inputs(Path::new(&a)));
        }
    }
    count_panics();
    let mut bad = false;
    for f in files {
        let data = match std::fs::read(&f) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                bad = true;
                continue;
            }
        };
        let cap = epan_fuzz::build(target, &data);
        if let Some(dir) = &pcap_dir {
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
            let out = dir.join(format!("{}.pcap", name.unwrap_or_default()));
            if let Err(e) = std::fs::write(&out, cap.to_pcap()) {
                eprintln!("{}: {e}", out.display());
                bad = true;
            } else {
                let mut cmd = format!(
                    "scripts/tshark-plugin -r {} -2 -V -o h2.tcp.port:{}",
                    out.display(),
                    epan_fuzz::H2_PORT
                );
                for p in cap.prefs() {
                    cmd.push_str(&format!(" -o {p}"));
                }
                println!("# {cmd}");
            }
        }
        let o = run_capture(&cap);
        println!(
            "{}: {} frames, {} with our protocols, {} tap records, {} panics",
            f.display(),
            o.frames,
            o.ours,
            o.tapped,
            o.panics
        );
        bad |= o.panics > 0;
    }
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
