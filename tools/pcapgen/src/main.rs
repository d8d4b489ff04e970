//! `pcapgen`: re-segment a real TCP conversation into synthetic test captures.
//!
//! Every subcommand reads one conversation (`--in`, `--server-port`, `--conversation`) and writes
//! a classic pcap (`--out`) of 127.0.0.1 ↔ 127.0.0.1 Ethernet frames. Run `pcapgen info` first
//! to see the message indexes the other subcommands refer to.

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pcapgen::{Capture, Conversation, Direction, Segment, TcpFlow, resegment};

mod adversarial;

#[derive(Parser)]
#[command(
    name = "pcapgen",
    version,
    about = "Re-segment a real TCP conversation into synthetic test captures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the conversations of a capture and the messages (segment payloads) of each.
    Info(InfoArgs),
    /// Re-send the conversation with every segment cut into pieces of N bytes (or cut once at
    /// a byte offset).
    Resplit(ResplitArgs),
    /// One TCP connection per split offset: each replays the conversation up to the chosen
    /// message and its reply, with that message sent as two segments split at the offset.
    SplitAtEveryOffset(SplitArgs),
    /// Merge every run of consecutive same-direction messages into one segment.
    Coalesce(CoalesceArgs),
    /// After a prefix of the conversation, send one message repeated M times in a single
    /// segment, and optionally a reply repeated M times in a single segment.
    ManyInOne(ManyArgs),
    /// Send one message a second time (same sequence number and payload) as a retransmission.
    Retransmit(RetransmitArgs),
    /// Cut off the start of the conversation so the capture begins mid-stream (no handshake),
    /// possibly in the middle of a PDU.
    Midstream(MidstreamArgs),
    /// Property-test input: every connection of a capture re-cut at random points for each of
    /// several seeds (optionally with duplicated retransmissions or swapped neighbours), all
    /// copies in one capture, each on its own client address.
    ResplitRandom(RandomArgs),
    /// Build a hostile ZooKeeper capture from scratch (no input): bogus lengths, huge
    /// counts, one byte per segment, unanswered requests, huge multi.
    Adversarial(AdversarialArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum VariantArg {
    /// Random cut points only.
    Plain,
    /// Plus duplicated retransmissions.
    Duplicates,
    /// Plus adjacent same-direction segments swapped (decode with
    /// -o tcp.reassemble_out_of_order:TRUE).
    Swaps,
}

#[derive(Args)]
struct RandomArgs {
    /// Input capture (pcap or pcapng).
    #[arg(short = 'i', long = "in", value_name = "CAPTURE")]
    input: PathBuf,
    /// Server ports (repeat for several): a connection with one of them is taken, that side
    /// being the server.
    #[arg(
        short = 'p',
        long = "server-port",
        value_name = "PORT",
        required = true
    )]
    server_ports: Vec<u16>,
    /// Number of seeds (copies of each connection).
    #[arg(long, value_name = "N", default_value_t = 20)]
    seeds: u32,
    /// First seed.
    #[arg(long, value_name = "S", default_value_t = 0)]
    first_seed: u32,
    #[arg(long, value_enum, default_value = "plain")]
    variant: VariantArg,
    /// Output pcap file.
    #[arg(short = 'o', long = "out", value_name = "PCAP")]
    output: PathBuf,
    /// Also write a manifest: one line per connection of the input (`index client_port
    /// server_port saw_syn`). Copy `k` (0-based among the seeds) of connection `j` has the
    /// client address 10.j.(k/256).(k%256) and the original ports; the server is 127.0.0.1.
    /// Connections whose SYN is not in the input are not copied.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

#[derive(Args)]
struct AdversarialArgs {
    /// Which capture to build.
    #[arg(value_enum)]
    kind: adversarial::Kind,
    /// Output pcap file.
    #[arg(short = 'o', long = "out", value_name = "PCAP")]
    output: PathBuf,
}

/// Where the conversation comes from.
#[derive(Args)]
struct Input {
    /// Input capture (pcap or pcapng).
    #[arg(short = 'i', long = "in", value_name = "CAPTURE")]
    input: PathBuf,
    /// TCP port of the server side; it tells the two directions apart.
    #[arg(short = 'p', long, value_name = "PORT")]
    server_port: u16,
    /// Which conversation of the capture to use (0-based, in order of first packet).
    #[arg(short = 'c', long, value_name = "INDEX", default_value_t = 0)]
    conversation: usize,
    /// Use only the first N messages of the conversation.
    #[arg(long, value_name = "N")]
    max_messages: Option<usize>,
}

/// How the result is written.
#[derive(Args)]
struct Output {
    /// Output pcap file (classic pcap, Ethernet).
    #[arg(short = 'o', long = "out", value_name = "PCAP")]
    output: PathBuf,
    /// Client port of the (first) generated connection [default: the original client port].
    #[arg(long, value_name = "PORT")]
    client_port: Option<u16>,
    /// Server port of the generated connections [default: the original server port]; moves
    /// the traffic off its well-known port, to test heuristics and Decode As.
    #[arg(long, value_name = "PORT")]
    server_port_out: Option<u16>,
    /// Leave out the SYN / SYN-ACK / ACK handshake.
    #[arg(long)]
    no_handshake: bool,
    /// Leave out the closing FIN exchange.
    #[arg(long)]
    no_fin: bool,
    /// Follow every data segment with a pure ACK from the receiving side.
    #[arg(long)]
    ack_every_segment: bool,
}

#[derive(Args)]
struct InfoArgs {
    #[command(flatten)]
    input: Input,
    /// Also list every message with its length and first bytes.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args)]
#[group(id = "how", required = true, multiple = false, args = ["piece", "at"])]
struct ResplitArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    /// Cut every segment into pieces of N bytes (1 = one byte per segment).
    #[arg(long, value_name = "N")]
    piece: Option<NonZeroUsize>,
    /// Cut every segment longer than OFFSET bytes in two at OFFSET.
    #[arg(long, value_name = "OFFSET")]
    at: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Dir {
    /// Client to server.
    #[value(name = "client-to-server", alias = "c2s")]
    ClientToServer,
    /// Server to client.
    #[value(name = "server-to-client", alias = "s2c")]
    ServerToClient,
}

impl From<Dir> for Direction {
    fn from(d: Dir) -> Direction {
        match d {
            Dir::ClientToServer => Direction::ClientToServer,
            Dir::ServerToClient => Direction::ServerToClient,
        }
    }
}

#[derive(Args)]
struct SplitArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    /// Message to split, counted among the messages of --direction (0 = the first one, e.g. a
    /// ZooKeeper ConnectRequest). Repeat to split several messages, one after the other.
    #[arg(long = "pdu-index", value_name = "K", required = true)]
    pdu_index: Vec<usize>,
    /// Direction in which --pdu-index counts.
    #[arg(long, value_enum, default_value = "client-to-server")]
    direction: Dir,
    /// Replay the whole conversation in each connection, not just up to the reply.
    #[arg(long)]
    full: bool,
}

#[derive(Args)]
struct CoalesceArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    /// Never merge beyond this many bytes per segment (the default is the most one IPv4 packet
    /// can carry).
    #[arg(long, value_name = "BYTES", default_value_t = resegment::MAX_IPV4_TCP_PAYLOAD)]
    max_segment: usize,
}

#[derive(Args)]
struct ManyArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    #[command(flatten)]
    request: RequestSel,
    #[command(flatten)]
    reply: ReplySel,
    /// How many copies go into each of the two segments.
    #[arg(short = 'n', long, value_name = "M", default_value_t = 1000)]
    count: usize,
    /// Direction of the repeated request.
    #[arg(long, value_enum, default_value = "client-to-server")]
    direction: Dir,
    /// Number of original messages sent before the repeated ones (for example 2: a ZooKeeper
    /// ConnectRequest and its response) [default: all messages before the chosen request, or
    /// the whole conversation when the request is given literally].
    #[arg(long, value_name = "N")]
    prefix: Option<usize>,
}

/// Which message to repeat (exactly one of these).
#[derive(Args)]
#[group(required = true, multiple = false)]
struct RequestSel {
    /// The message to repeat: the K-th (0-based) message of --direction.
    #[arg(long, value_name = "K")]
    request: Option<usize>,
    /// The message to repeat: the first message of --direction starting with these bytes (hex).
    #[arg(long, value_name = "HEX")]
    request_matching: Option<String>,
    /// The message to repeat, given literally (hex).
    #[arg(long, value_name = "HEX")]
    request_payload: Option<String>,
}

/// Which reply to repeat (at most one of these; none: no reply segment).
#[derive(Args)]
#[group(required = false, multiple = false)]
struct ReplySel {
    /// The reply to repeat: the K-th (0-based) message of the other direction.
    #[arg(long, value_name = "K")]
    reply: Option<usize>,
    /// The reply to repeat: the first message of the other direction starting with these bytes.
    #[arg(long, value_name = "HEX")]
    reply_matching: Option<String>,
    /// The reply to repeat, given literally (hex).
    #[arg(long, value_name = "HEX")]
    reply_payload: Option<String>,
}

#[derive(Args)]
struct RetransmitArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    /// Message to retransmit: index among all messages (as listed by `pcapgen info -v`).
    #[arg(long, value_name = "K")]
    segment: usize,
    /// Number of messages between the original and the retransmission (0 = right after it).
    #[arg(long, value_name = "N", default_value_t = 0)]
    later: usize,
}

#[derive(Args)]
#[group(id = "skip", required = true, multiple = true, args = ["skip_bytes", "skip_messages"])]
struct MidstreamArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    output: Output,
    /// Drop the first K messages.
    #[arg(long, value_name = "K")]
    skip_messages: Option<usize>,
    /// Then drop N more payload bytes (both directions, in capture order), so the capture
    /// starts N bytes into what is left, possibly in the middle of a PDU.
    #[arg(long, value_name = "N")]
    skip_bytes: Option<u64>,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Info(a) => info(&a),
        Command::Resplit(a) => {
            let conv = load(&a.input)?;
            let segs = conv.segments();
            let segs = match (a.piece, a.at) {
                (Some(n), _) => resegment::split_into_pieces(&segs, n),
                (None, Some(off)) => resegment::split_every_segment_at(&segs, off),
                (None, None) => bail!("one of --piece or --at is required"),
            };
            write_one(&a.output, &conv, segs)
        }
        Command::SplitAtEveryOffset(a) => split_at_every_offset(&a),
        Command::Coalesce(a) => {
            let conv = load(&a.input)?;
            write_one(
                &a.output,
                &conv,
                resegment::coalesce_up_to(&conv.segments(), a.max_segment),
            )
        }
        Command::ManyInOne(a) => many_in_one(&a),
        Command::Retransmit(a) => {
            let conv = load(&a.input)?;
            let segs = resegment::retransmit(&conv.segments(), a.segment, a.later)?;
            write_one(&a.output, &conv, segs)
        }
        Command::ResplitRandom(a) => resplit_random(&a),
        Command::Adversarial(a) => adversarial::build(a.kind)?
            .write_file(&a.output)
            .with_context(|| format!("writing {}", a.output.display())),
        Command::Midstream(a) => {
            let conv = load(&a.input)?;
            let (segs, mut skipped) =
                resegment::skip_segments(&conv.segments(), a.skip_messages.unwrap_or(0));
            let (segs, more) = resegment::skip_bytes(&segs, a.skip_bytes.unwrap_or(0));
            skipped += more;
            ensure!(!segs.is_empty(), "nothing left after skipping");
            let flow = flow_for(&a.output, &conv, 0, segs)
                .with_handshake(false)
                .skip_stream_offsets(skipped);
            write(&a.output, &[flow])
        }
    }
}

fn resplit_random(a: &RandomArgs) -> Result<()> {
    use pcapgen::random::{self, Rng, Variant};
    let data = std::fs::read(&a.input).with_context(|| format!("reading {}", a.input.display()))?;
    let convs = pcapgen::extract_streams_ports(&data, &a.server_ports)
        .with_context(|| format!("reading {}", a.input.display()))?;
    ensure!(
        convs.len() <= 256,
        "{} connections: at most 256",
        convs.len()
    );
    ensure!(a.seeds <= 65536, "at most 65536 seeds");
    let variant = match a.variant {
        VariantArg::Plain => Variant::Plain,
        VariantArg::Duplicates => Variant::Duplicates,
        VariantArg::Swaps => Variant::Swaps,
    };
    let mut manifest = String::new();
    let mut capture = Capture::new();
    for (j, conv) in convs.iter().enumerate() {
        manifest.push_str(&format!(
            "{j}\t{}\t{}\t{}\n",
            conv.client.port(),
            conv.server.port(),
            u8::from(conv.saw_syn)
        ));
        if !conv.saw_syn {
            continue;
        }
        for k in 0..a.seeds {
            let seed = u64::from(a.first_seed + k);
            // One stream of random numbers per (connection, seed, variant).
            let mut rng = Rng::new(seed << 16 | (j as u64) << 2 | variant as u64);
            let segs = random::variant_segments(&conv.segments(), variant, &mut rng);
            let mut flow = TcpFlow::new(conv.client.port(), conv.server.port()).with_segments(segs);
            flow.client_ip = [10, j as u8, (k >> 8) as u8, k as u8];
            for frame in random::frames(&flow, variant, &mut rng)? {
                capture.add_frame(frame);
            }
        }
    }
    capture
        .write_file(&a.output)
        .with_context(|| format!("writing {}", a.output.display()))?;
    if let Some(m) = &a.manifest {
        std::fs::write(m, manifest).with_context(|| format!("writing {}", m.display()))?;
    }
    eprintln!(
        "wrote {}: {} frame(s), {} connection(s) x {} seed(s)",
        a.output.display(),
        capture.len(),
        convs.iter().filter(|c| c.saw_syn).count(),
        a.seeds
    );
    Ok(())
}

fn load(input: &Input) -> Result<Conversation> {
    let mut convs = pcapgen::extract_streams(&input.input, input.server_port)
        .with_context(|| format!("reading {}", input.input.display()))?;
    ensure!(
        input.conversation < convs.len(),
        "{} has {} conversation(s) on port {}; --conversation {} does not exist",
        input.input.display(),
        convs.len(),
        input.server_port,
        input.conversation
    );
    let mut conv = convs.swap_remove(input.conversation);
    if let Some(max) = input.max_messages {
        conv.messages.truncate(max);
    }
    ensure!(
        !conv.messages.is_empty(),
        "the conversation carries no payload"
    );
    Ok(conv)
}

/// The client port of the `n`-th generated connection: the base port plus `n`, wrapping
/// within the non-privileged range.
fn client_port(output: &Output, conv: &Conversation, n: usize) -> u16 {
    let base = output.client_port.unwrap_or(conv.client.port());
    if n == 0 {
        return base;
    }
    let span = 65536 - 1024;
    let base_off = usize::from(base.max(1024)) - 1024;
    // The result is below 65536 by construction.
    (1024 + (base_off + n) % span) as u16
}

fn flow_for(output: &Output, conv: &Conversation, n: usize, segs: Vec<Segment>) -> TcpFlow {
    TcpFlow::new(
        client_port(output, conv, n),
        output.server_port_out.unwrap_or(conv.server.port()),
    )
    .with_handshake(!output.no_handshake)
    .with_close(!output.no_fin)
    .with_ack_every_segment(output.ack_every_segment)
    .with_segments(segs)
}

fn write_one(output: &Output, conv: &Conversation, segs: Vec<Segment>) -> Result<()> {
    write(output, &[flow_for(output, conv, 0, segs)])
}

fn write(output: &Output, flows: &[TcpFlow]) -> Result<()> {
    let mut capture = Capture::new();
    for flow in flows {
        capture.add_flow(flow)?;
    }
    capture
        .write_file(&output.output)
        .with_context(|| format!("writing {}", output.output.display()))?;
    eprintln!(
        "wrote {}: {} frame(s), {} connection(s)",
        output.output.display(),
        capture.len(),
        flows.len()
    );
    Ok(())
}

fn split_at_every_offset(a: &SplitArgs) -> Result<()> {
    let conv = load(&a.input)?;
    let dir = Direction::from(a.direction);
    let segs = conv.segments();
    let mut flows = Vec::new();
    for &k in &a.pdu_index {
        let idx = conv.nth_index(dir, k).with_context(|| {
            format!(
                "the conversation has no message {k} in direction {}",
                dir.arrow()
            )
        })?;
        // Replay through the chosen message and the other side's answer to it.
        let end = if a.full {
            segs.len()
        } else {
            segs[idx + 1..]
                .iter()
                .position(|s| s.dir == dir)
                .map_or(segs.len(), |p| idx + 1 + p)
        };
        let variants = resegment::split_at_every_offset(&segs[..end], idx)?;
        if variants.is_empty() {
            eprintln!(
                "message {k} ({}) is 1 byte long: nothing to split",
                dir.arrow()
            );
        }
        for v in variants {
            let n = flows.len();
            flows.push(flow_for(&a.output, &conv, n, v));
        }
    }
    ensure!(!flows.is_empty(), "no split variants to write");
    write(&a.output, &flows)
}

fn parse_hex(s: &str) -> Result<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'-' | b'_' | b'\t'))
        .collect();
    ensure!(digits.len() % 2 == 0, "odd number of hex digits in {s:?}");
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair)?;
            u8::from_str_radix(text, 16).with_context(|| format!("bad hex {text:?} in {s:?}"))
        })
        .collect()
}

/// Resolves a message selection: by index within `dir`, by prefix, or literal bytes.
/// Returns the payload and, when it came from the conversation, its index in `messages`.
fn select(
    conv: &Conversation,
    dir: Direction,
    index: Option<usize>,
    matching: Option<&str>,
    literal: Option<&str>,
) -> Result<Option<(Vec<u8>, Option<usize>)>> {
    if let Some(k) = index {
        let i = conv.nth_index(dir, k).with_context(|| {
            format!(
                "the conversation has no message {k} in direction {}",
                dir.arrow()
            )
        })?;
        return Ok(Some((conv.messages[i].payload.clone(), Some(i))));
    }
    if let Some(hex) = matching {
        let prefix = parse_hex(hex)?;
        let i = conv
            .messages
            .iter()
            .position(|m| m.dir == dir && m.payload.starts_with(&prefix))
            .with_context(|| format!("no {} message starts with {hex}", dir.arrow()))?;
        return Ok(Some((conv.messages[i].payload.clone(), Some(i))));
    }
    if let Some(hex) = literal {
        return Ok(Some((parse_hex(hex)?, None)));
    }
    Ok(None)
}

fn many_in_one(a: &ManyArgs) -> Result<()> {
    let conv = load(&a.input)?;
    let dir = Direction::from(a.direction);
    let (request, req_idx) = select(
        &conv,
        dir,
        a.request.request,
        a.request.request_matching.as_deref(),
        a.request.request_payload.as_deref(),
    )?
    .context("one of --request, --request-matching or --request-payload is required")?;
    let reply = select(
        &conv,
        dir.reverse(),
        a.reply.reply,
        a.reply.reply_matching.as_deref(),
        a.reply.reply_payload.as_deref(),
    )?;
    ensure!(a.count > 0, "--count must be at least 1");
    ensure!(!request.is_empty(), "the request payload is empty");

    let prefix = a.prefix.unwrap_or(req_idx.unwrap_or(conv.messages.len()));
    ensure!(
        prefix <= conv.messages.len(),
        "--prefix {prefix}: the conversation has only {} messages",
        conv.messages.len()
    );
    let mut segs: Vec<Segment> = conv.segments()[..prefix].to_vec();
    segs.push(resegment::repeated(dir, &request, a.count));
    if let Some((reply, _)) = reply {
        ensure!(!reply.is_empty(), "the reply payload is empty");
        segs.push(resegment::repeated(dir.reverse(), &reply, a.count));
    }
    write_one(&a.output, &conv, segs)
}

fn hex_preview(bytes: &[u8], max: usize) -> String {
    let mut s: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        s.push("..".into());
    }
    s.join(" ")
}

fn info(a: &InfoArgs) -> Result<()> {
    let convs = pcapgen::extract_streams(&a.input.input, a.input.server_port)
        .with_context(|| format!("reading {}", a.input.input.display()))?;
    let mut out = std::io::stdout().lock();
    match print_info(a, &convs, &mut out).and_then(|()| out.flush()) {
        // A closed pipe (`pcapgen info | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print_info(a: &InfoArgs, convs: &[Conversation], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} conversation(s) with server port {}",
        a.input.input.display(),
        convs.len(),
        a.input.server_port
    )?;
    for (ci, c) in convs.iter().enumerate() {
        let c2s = c.stream(Direction::ClientToServer).len();
        let s2c = c.stream(Direction::ServerToClient).len();
        writeln!(
            out,
            "conversation {ci}: {} -> {}{}, {} messages, {c2s} bytes c->s, {s2c} bytes s->c, \
             {} retransmission(s) dropped, {} gap(s)",
            c.client,
            c.server,
            if c.saw_syn { "" } else { " (no SYN)" },
            c.messages.len(),
            c.dropped_retransmissions,
            c.gaps
        )?;
        if !a.verbose {
            continue;
        }
        let mut per_dir = [0usize; 2];
        for (mi, m) in c.messages.iter().enumerate() {
            let k = &mut per_dir[m.dir.index()];
            writeln!(
                out,
                "  [{mi:4}] {} #{:<4} {:6} bytes  {}",
                m.dir.arrow(),
                *k,
                m.payload.len(),
                hex_preview(&m.payload, 16)
            )?;
            *k += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex() {
        assert_eq!(parse_hex("00 0a:FF").unwrap(), vec![0, 10, 255]);
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
