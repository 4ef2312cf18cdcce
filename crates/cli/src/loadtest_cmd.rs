//! `omadm loadtest`: whole-server figures (issue 7). Enrolls simulated devices through the REST
//! API, queues commands for them, and runs full DM sessions with the sans-IO client engine, many
//! devices per task: a pool of `--concurrency` session loops shares one HTTP client, and each
//! device is only a tree in memory.
//!
//! The run goes in rounds: queue M commands for every device, then one session per device. Only
//! the session phases are timed for the rates, so the REST calls that feed the queue (bulk calls
//! by default) do not count against the DM endpoint; their time is reported apart.

mod api;
mod report;
mod sim;

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use omadm_client::agent::transport::{Transport, TransportOptions};
use omadm_client::agent::{WireEncoding, VERSION};
use omadm_security::cred::AuthScheme;

use api::{Api, Enrollment};
use report::{rate, Baseline, Latency, Report, Tally};
use sim::Device;

pub const LONG_ABOUT: &str = "\
Measure a running omadm server with simulated devices.

Enrolls --devices devices through the REST API (ids LOAD:<run>:<n>, unique per run), then runs
rounds: queue --commands-per-session commands for every device (Get ./DevInfo/Mod, Replace and
Get of ./Vendor/LoadTest, in turn), then one full DM session per device. Each device is a
management tree in memory driven by the client's session engine; --concurrency sessions run at
once over one shared HTTP client. --sessions K runs K rounds; --duration S runs rounds until S
seconds of sessions have passed.

Prints sessions/s, messages/s (HTTP round trips), p50/p95/p99 session latency and the errors;
--json prints one JSON object instead. Only the session phases count in the rates.

--baseline then sends as many GET /healthz, at the same concurrency, as the sessions sent
messages, --baseline-runs times (3 unless given; a short burst is noisy, the median run
counts), and prints the bare request rate and two ratios:
  ratio        sessions/s ÷ (requests/s ÷ messages per session)   (HTTP round trips, ~2)
  issue ratio  sessions/s ÷ (requests/s ÷ 4)                        (issue 7: 4 DM messages)

Commands are queued with POST /api/v1/bulk/commands (one call per chunk of devices that get the
same commands), or with --queue per-device one POST per command.

Replicas: give --server more than once (servers sharing one database). The REST calls go to the
first; device n's DM sessions go to server (n - 1) mod count, so the replicas share the devices
evenly; --baseline sends its request k to server k mod count.

A failed session is counted with its reason and the run goes on; the exit status is 1 when any
session failed.";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Auth {
    /// CLCRED BASIC, SRVCRED DIGEST.
    Basic,
    /// CLCRED DIGEST (MD5, server nonces), SRVCRED DIGEST.
    Digest,
    /// x-syncml-hmac both ways.
    Hmac,
}

impl Auth {
    fn scheme(self) -> AuthScheme {
        match self {
            Auth::Basic => AuthScheme::Basic,
            Auth::Digest => AuthScheme::Md5,
            Auth::Hmac => AuthScheme::Hmac,
        }
    }

    /// The REST API's `client_auth.type`.
    fn api_name(self) -> &'static str {
        match self {
            Auth::Basic => "basic",
            Auth::Digest => "digest",
            Auth::Hmac => "hmac",
        }
    }
}

/// How a round's commands are queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Queue {
    /// `POST /api/v1/bulk/commands`: one call per chunk of devices that get the same commands.
    Bulk,
    /// `POST /api/v1/devices/{id}/commands`: one call per command.
    PerDevice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Enc {
    Xml,
    Wbxml,
}

impl Enc {
    fn wire(self) -> WireEncoding {
        match self {
            Enc::Xml => WireEncoding::Xml,
            Enc::Wbxml => WireEncoding::Wbxml,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Enc::Xml => "xml",
            Enc::Wbxml => "wbxml",
        }
    }
}

/// Measure a running server with simulated devices.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's base URL (http://HOST:PORT; the DM endpoint is its /dm). Give it more than
    /// once for replicas: the REST calls go to the first, device n's DM sessions to server
    /// (n - 1) mod count, and --baseline's requests in turn to each.
    #[arg(long = "server", value_name = "URL", required = true, num_args = 1, action = clap::ArgAction::Append)]
    servers: Vec<String>,

    /// The REST API's bearer token.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "OMADM_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: String,

    /// Simulated devices to enroll.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    devices: u32,

    /// Sessions in flight at once.
    #[arg(long, value_name = "C", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    concurrency: u32,

    /// Sessions per device [default: 1].
    #[arg(long, value_name = "K", conflicts_with = "duration", value_parser = clap::value_parser!(u32).range(1..))]
    sessions: Option<u32>,

    /// Run rounds of sessions until this many seconds of sessions have passed.
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    duration: Option<u64>,

    /// Commands queued for each device before each of its sessions.
    #[arg(long, value_name = "M", default_value_t = 4)]
    commands_per_session: u32,

    /// How each round's commands are queued: in bulk calls (a campaign per chunk of devices),
    /// or one REST call per command.
    #[arg(long, value_enum, default_value_t = Queue::Bulk)]
    queue: Queue,

    /// The devices' message encoding.
    #[arg(long, value_enum, default_value_t = Enc::Xml)]
    encoding: Enc,

    /// How the devices authenticate.
    #[arg(long, value_enum, default_value_t = Auth::Digest)]
    auth: Auth,

    /// The server's ServerID (the devices' DMAcc ServerID).
    #[arg(long, value_name = "ID", default_value = "omadm")]
    server_id: String,

    /// Also measure bare GET /healthz at the same concurrency and print the ratio.
    #[arg(long)]
    baseline: bool,

    /// How many times --baseline sends its requests; the median run's rate counts.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    baseline_runs: u16,

    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// `http://host:port` from what the user gave (a trailing `/` or `/dm` dropped).
fn base_url(server: &str) -> Result<String> {
    let s = server.trim_end_matches('/');
    let s = s.strip_suffix("/dm").unwrap_or(s);
    if !(s.starts_with("http://") || s.starts_with("https://")) {
        bail!("--server {server:?} must be an http:// or https:// URL");
    }
    Ok(s.to_owned())
}

/// A run id for the device ids: the clock, in hex.
fn run_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("{:08x}", (micros % 0xFFFF_FFFF) as u32)
}

pub fn run(args: &Args) -> Result<()> {
    let report = crate::async_runtime()?.block_on(load(args))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.text());
    }
    if report.errors > 0 {
        bail!("{} of {} sessions failed", report.errors, report.sessions);
    }
    Ok(())
}

/// Runs `f` over `items` with `concurrency` tasks; gives every item back (in no particular
/// order) with what `f` said. Past `deadline` no item is started: those come back unprocessed.
async fn pool<T, R, F, Fut>(
    concurrency: usize,
    items: Vec<T>,
    deadline: Option<Instant>,
    f: F,
) -> Result<(Vec<T>, Vec<R>)>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = (T, R)> + Send,
{
    let queue = Arc::new(Mutex::new(VecDeque::from(items)));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let queue = Arc::clone(&queue);
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                let Some(item) = next else { break };
                out.push(f(item).await);
            }
            out
        }));
    }
    let (mut items, mut results) = (Vec::new(), Vec::new());
    for t in tasks {
        for (item, r) in t.await.context("a load task panicked")? {
            items.push(item);
            results.push(r);
        }
    }
    let left = std::mem::take(&mut *queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    items.extend(left);
    Ok((items, results))
}

fn progress_bar(args: &Args, total: Option<u64>) -> ProgressBar {
    let visible = !args.json && std::io::stderr().is_terminal();
    let pb = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::hidden()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
    };
    let template = if total.is_some() {
        "{elapsed_precise} [{bar:40}] {pos}/{len} sessions ({per_sec}) {msg}"
    } else {
        "{spinner} {elapsed_precise} {pos} sessions ({per_sec}) {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    if visible {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.enable_steady_tick(Duration::from_millis(200));
    }
    pb
}

async fn load(args: &Args) -> Result<Report> {
    let bases = args
        .servers
        .iter()
        .map(|s| base_url(s))
        .collect::<Result<Vec<_>>>()?;
    let base = bases.first().context("no --server")?.clone();
    let dm_urls: Arc<Vec<String>> = Arc::new(bases.iter().map(|b| format!("{b}/dm")).collect());
    let concurrency = args.concurrency as usize;
    let m = args.commands_per_session as usize;
    let enc = args.encoding.wire();
    let server_id = Arc::new(args.server_id.clone());

    let http = reqwest::Client::builder()
        .user_agent(format!("omadm-loadtest/{VERSION}"))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .context("cannot set up the HTTP client")?;
    let api = Api::new(http.clone(), &base, &args.admin_token);
    // One per server, for the baseline's /healthz.
    let health: Vec<Api> = bases
        .iter()
        .map(|b| Api::new(http.clone(), b, &args.admin_token))
        .collect();
    let transport = Transport::new(&TransportOptions::new(&format!("omadm-loadtest/{VERSION}")))?;

    let rounds = match (args.sessions, args.duration) {
        (_, Some(_)) => None,
        (k, None) => Some(k.unwrap_or(1) as u64),
    };
    let pb = progress_bar(args, rounds.map(|k| k * u64::from(args.devices)));

    // Enrollment.
    pb.set_message("enrolling");
    let run = run_id();
    let t = Instant::now();
    let (scheme, auth_name) = (args.auth.scheme(), args.auth.api_name());
    let indices: Vec<u32> = (1..=args.devices).collect();
    let (_, enrolled) = pool(concurrency, indices, None, {
        let (api, run, server_id, dm_urls) =
            (api.clone(), run.clone(), server_id.clone(), dm_urls.clone());
        move |n: u32| {
            let (api, run, server_id) = (api.clone(), run.clone(), server_id.clone());
            // Device n's sessions go to server (n - 1) mod count.
            let dm_url = dm_urls[(n as usize - 1) % dm_urls.len()].clone();
            async move {
                let e = Enrollment {
                    device_id: format!("LOAD:{run}:{n}"),
                    auth: auth_name,
                    client_name: format!("load-{run}-{n}"),
                    client_secret: format!("cs-{run}-{n}"),
                    server_name: server_id.to_string(),
                    server_secret: format!("ss-{run}-{n}"),
                };
                let r = match api.enroll(&e).await {
                    Ok(()) => Device::new(&e, &server_id, &dm_url, scheme, enc)
                        .with_context(|| format!("building the tree of {}", e.device_id)),
                    Err(err) => Err(err.context(format!("enrolling {}", e.device_id))),
                };
                (n, r)
            }
        }
    })
    .await?;
    let mut devices = Vec::with_capacity(enrolled.len());
    for d in enrolled {
        devices.push(d?);
    }
    let enroll_time = t.elapsed();

    // Rounds: queue, then sessions.
    let mut tally = Tally::default();
    let mut queue_time = Duration::ZERO;
    let mut session_time = Duration::ZERO;
    // This process's CPU over the session phases, where the OS tells it.
    let mut session_cpu = Some(Duration::ZERO);
    let budget = args.duration.map(Duration::from_secs);
    let mut round = 0u64;
    loop {
        if rounds.is_some_and(|k| round >= k) || budget.is_some_and(|b| session_time >= b) {
            break;
        }
        round += 1;
        pb.set_message(format!("round {round}: queueing"));
        let t = Instant::now();
        match args.queue {
            Queue::Bulk => {
                for (id, e) in queue_bulk(&api, &devices, m).await {
                    tally.error(format!("queueing commands for {id}: {e:#}"));
                }
            }
            Queue::PerDevice => {
                let (devs, queued) = pool(concurrency, devices, None, {
                    let api = api.clone();
                    move |dev: Device| {
                        let api = api.clone();
                        async move {
                            for i in 0..m {
                                if let Err(e) = api.enqueue(&dev.id, &dev.command(i)).await {
                                    return (dev, Err(e));
                                }
                            }
                            (dev, Ok(()))
                        }
                    }
                })
                .await?;
                devices = devs;
                for r in queued {
                    if let Err(e) = r {
                        tally.error(format!("queueing commands: {e:#}"));
                    }
                }
            }
        }
        queue_time += t.elapsed();

        pb.set_message(format!("round {round}: sessions"));
        let t = Instant::now();
        let cpu_before = report::own_cpu();
        let deadline = budget.map(|b| t + (b - session_time));
        let (devs, runs) = pool(concurrency, devices, deadline, {
            let (transport, server_id, pb) = (transport.clone(), server_id.clone(), pb.clone());
            move |mut dev: Device| {
                let (transport, server_id, pb) = (transport.clone(), server_id.clone(), pb.clone());
                async move {
                    let r = dev.session(&transport, &server_id, enc).await;
                    pb.inc(1);
                    let id = dev.id.clone();
                    (dev, (id, r))
                }
            }
        })
        .await?;
        session_time += t.elapsed();
        session_cpu = match (session_cpu, cpu_before, report::own_cpu()) {
            (Some(sum), Some(a), Some(b)) => Some(sum + b.saturating_sub(a)),
            _ => None,
        };
        devices = devs;
        for (id, r) in runs {
            tally.sessions += 1;
            tally.messages += r.messages;
            match r.result {
                Ok(()) => tally.latencies_us.push(r.latency.as_micros() as u64),
                Err(e) => tally.error(format!("{id}: {e:#}")),
            }
        }
    }
    pb.finish_and_clear();

    let completed = tally.latencies_us.len();
    let sessions_per_s = rate(completed, session_time);
    let messages_per_session = if tally.sessions > 0 {
        tally.messages as f64 / tally.sessions as f64
    } else {
        0.0
    };
    let baseline = if args.baseline && tally.messages > 0 {
        Some(
            baseline(
                &health,
                (concurrency, tally.messages, usize::from(args.baseline_runs)),
                sessions_per_s,
                messages_per_session,
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Report {
        server: base,
        servers: bases,
        devices: devices.len(),
        concurrency,
        auth: auth_name,
        encoding: args.encoding.name(),
        commands_per_session: m,
        sessions: tally.sessions,
        completed,
        errors: tally.errors,
        error_messages: std::mem::take(&mut tally.first_errors),
        messages: tally.messages,
        messages_per_session,
        elapsed_s: session_time.as_secs_f64(),
        sessions_per_s,
        messages_per_s: rate(tally.messages, session_time),
        latency_ms: Latency::of(&mut tally.latencies_us),
        cpu: session_cpu.map(|c| report::Cpu::of(c, tally.sessions)),
        enroll_s: enroll_time.as_secs_f64(),
        queue_s: queue_time.as_secs_f64(),
        baseline,
    })
}

/// Issue 7 counts a session as 4 DM messages (packages #1 to #4) and divides the bare request
/// rate by that.
const DM_MESSAGES_PER_SESSION: f64 = 4.0;

/// The most devices one bulk call names (the server's limit per campaign).
const BULK_MAX_DEVICES: usize = 100_000;
/// The most bytes of device ids one bulk call carries: its body stays under 64 KiB, the
/// smallest request body an `omadm server` accepts (twice its MaxMsgSize, at least 64 KiB).
const BULK_MAX_ID_BYTES: usize = 60_000;

/// Device ids in runs of at most `max_devices` whose ids (each JSON-quoted, with its comma)
/// total at most `max_bytes`; every run holds at least one id.
fn chunks(ids: &[String], max_devices: usize, max_bytes: usize) -> Vec<&[String]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        let len = id.len() + 3;
        if i > start && (i - start >= max_devices || bytes + len > max_bytes) {
            out.push(&ids[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += len;
    }
    if start < ids.len() {
        out.push(&ids[start..]);
    }
    out
}

/// Queues each device's next `m` commands with bulk calls: the devices that get the same
/// commands (all of them, in a run of rounds) share calls. The devices whose call failed, with
/// why.
async fn queue_bulk(api: &Api, devices: &[Device], m: usize) -> Vec<(String, anyhow::Error)> {
    let mut groups: BTreeMap<String, (Vec<serde_json::Value>, Vec<String>)> = BTreeMap::new();
    for dev in devices {
        let specs: Vec<serde_json::Value> = (0..m).map(|i| dev.command(i)).collect();
        let key = serde_json::Value::Array(specs.clone()).to_string();
        groups
            .entry(key)
            .or_insert_with(|| (specs, Vec::new()))
            .1
            .push(dev.id.clone());
    }
    let mut failed = Vec::new();
    for (specs, ids) in groups.into_values() {
        if specs.is_empty() {
            continue;
        }
        for chunk in chunks(&ids, BULK_MAX_DEVICES, BULK_MAX_ID_BYTES) {
            if let Err(e) = api.bulk_enqueue(chunk, &specs).await {
                let why = format!("{e:#}");
                failed.extend(
                    chunk
                        .iter()
                        .map(|id| (id.clone(), anyhow::anyhow!("{why}"))),
                );
            }
        }
    }
    failed
}

/// `runs` times `requests` bare `GET /healthz` at `concurrency`: the server's HTTP floor, the
/// median run's rate. Request k of a run goes to server k mod count.
async fn baseline(
    apis: &[Api],
    (concurrency, requests, runs): (usize, usize, usize),
    sessions_per_s: f64,
    messages_per_session: f64,
) -> Result<Baseline> {
    let mut done = Vec::with_capacity(runs);
    let mut errors = 0;
    for _ in 0..runs.max(1) {
        let (elapsed, failed) = healthz_run(apis, concurrency, requests).await?;
        done.push(elapsed);
        errors += failed;
    }
    // Slowest first: the rates in ascending order.
    done.sort_by(|a, b| b.cmp(a));
    let elapsed = done[done.len() / 2];
    let requests_per_s = rate(requests, elapsed);
    let per_session_floor = if messages_per_session > 0.0 {
        requests_per_s / messages_per_session
    } else {
        0.0
    };
    Ok(Baseline {
        requests,
        runs: done.iter().map(|&d| rate(requests, d)).collect(),
        errors,
        elapsed_s: elapsed.as_secs_f64(),
        requests_per_s,
        ratio: if per_session_floor > 0.0 {
            sessions_per_s / per_session_floor
        } else {
            0.0
        },
        issue_ratio: if requests_per_s > 0.0 {
            sessions_per_s / (requests_per_s / DM_MESSAGES_PER_SESSION)
        } else {
            0.0
        },
    })
}

/// One run of the baseline: its wall time and failed requests.
async fn healthz_run(
    apis: &[Api],
    concurrency: usize,
    requests: usize,
) -> Result<(Duration, usize)> {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (apis, next, errors) = (apis.to_vec(), next.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= requests {
                    break;
                }
                if apis[k % apis.len()].healthz().await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.context("a baseline task panicked")?;
    }
    Ok((t.elapsed(), errors.load(Ordering::Relaxed)))
}

#[cfg(test)]
mod tests {
    use super::{base_url, chunks};

    #[test]
    fn bulk_chunks_respect_both_limits() {
        let ids: Vec<String> = (0..10).map(|i| format!("d{i}")).collect(); // 5 bytes each
        let lens = |c: Vec<&[String]>| c.iter().map(|c| c.len()).collect::<Vec<_>>();
        assert_eq!(lens(chunks(&ids, 4, 1000)), [4, 4, 2]);
        assert_eq!(lens(chunks(&ids, 100, 15)), [3, 3, 3, 1]);
        // An id longer than the byte budget still goes, alone.
        assert_eq!(lens(chunks(&ids, 100, 1)), [1; 10]);
        assert!(chunks(&[], 4, 100).is_empty());
        let all: Vec<String> = chunks(&ids, 3, 12).concat();
        assert_eq!(all, ids);
    }

    #[test]
    fn the_server_url_is_the_base() {
        assert_eq!(
            base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(base_url("http://h:1/dm").unwrap(), "http://h:1");
        assert_eq!(base_url("http://h:1/").unwrap(), "http://h:1");
        assert!(base_url("h:1").is_err());
    }
}
