//! `omadm bootstrap`: build and verify DM bootstrap documents (DM Security 1.2, Bootstrap via
//! DM; DIGEST.md §3.7).

use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use omadm_security::bootstrap::{
    self, dmacc_document, BootstrapContentType, ImportPolicy, Mac, SecMethod, Secrets,
};
use omadm_tree::stdobj::{AppAuth, DmAcc};
use omadm_tree::tnds::TndsLimits;
use omadm_tree::{Caller, Tree};

use crate::io::{self, Output};
use crate::status;

pub const ABOUT: &str = "Build or verify a DM bootstrap (a DMAcc account sent with a MAC)";

pub const LONG_ABOUT: &str = "\
Build or verify a DM bootstrap.

A bootstrap gives a device its first DM account before any DM session can run. The server
encodes a TNDS document (OMA DM Tree and Description Serialization) holding a DMAcc account as
WBXML and sends it with

  Content-Type: application/vnd.syncml.dm+wbxml; SEC=<method>; MAC=<hex>

where MAC is HMAC-SHA1(key, WBXML bytes) as 40 hex digits. XML is not allowed for a bootstrap.
The key depends on the security method SEC (DM Security 1.2):

  NETWORKID          the network secret both sides know (e.g. the IMSI or ESN)
  USERPIN            the PIN the user is told and types on the device
  USERPIN_NETWORKID  PIN:secret, the PIN, a colon and the network secret

The device verifies the MAC before it reads the document and ignores a bootstrap whose MAC
does not verify.";

const BUILD_LONG_ABOUT: &str = "\
Build a bootstrap that gives a device one DMAcc account.

The account (StdObj DMAcc, urn:oma:mo:oma-dm-dmacc:1.0) is a top Node <X> (--node) with Path
./DMAcc holding AppID w7, ServerID, Name, AppAddr/1/{Addr, AddrType URI, Port/1/PortNbr} and
AppAuth entries: CLCRED (how the client authenticates to the server: --client-name,
--client-secret) and SRVCRED (how the server authenticates to the client: AAuthName is the
ServerID, --server-secret). The TNDS document is written to OUT as WBXML and the Content-Type
line to send with it, with SEC and MAC, is printed on stdout.

OUT is written atomically (OUT.tmp, then renamed). Exit status: 0 on success, 1 when the output
cannot be written or a secret the method needs is missing, 2 on usage errors.";

const VERIFY_LONG_ABOUT: &str = "\
Verify a bootstrap's MAC as a device would, and optionally show what it would add.

FILE is the WBXML body; the SEC method and MAC come from --sec and --mac or from the whole
Content-Type value (--content-type). The MAC is recomputed with the key of the method and
compared in constant time. With --apply the verified document is also decoded and added to the
tree (--tree, a TNDS document, XML or WBXML; else an empty tree) the way the device places it:
a DMAcc account goes under ./DMAcc (a fresh <X> name when the proposed one is taken, with the
ServerID's w7 ACL), any other object at the root. The objects that would be created are
printed; no file is changed.

Exit status: 0 when the MAC verifies (and, with --apply, the document can be added); 1 when it
does not (the message names the failure), or on a read or import error; 2 on usage errors.";

/// The `omadm bootstrap` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(long_about = BUILD_LONG_ABOUT)]
    Build(BuildArgs),
    #[command(long_about = VERIFY_LONG_ABOUT)]
    Verify(VerifyArgs),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Build(_) => "bootstrap build",
            Command::Verify(_) => "bootstrap verify",
        }
    }

    pub fn run(&self) -> Result<()> {
        match self {
            Command::Build(a) => build(a),
            Command::Verify(a) => verify(a),
        }
    }
}

/// The secrets a key is made from.
#[derive(Debug, clap::Args)]
struct SecretArgs {
    /// User PIN (USERPIN, USERPIN_NETWORKID).
    #[arg(long, value_name = "PIN")]
    pin: Option<String>,

    /// Network shared secret, e.g. the IMSI digits (NETWORKID, USERPIN_NETWORKID).
    #[arg(long, value_name = "SECRET")]
    network_secret: Option<String>,
}

impl SecretArgs {
    fn secrets(&self) -> Secrets<'_> {
        Secrets {
            network_secret: self.network_secret.as_deref().map(str::as_bytes),
            pin: self.pin.as_deref(),
        }
    }
}

/// Build a bootstrap holding one DMAcc account.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// ServerID of the account: the id the server gives in its messages and ACLs grant rights to.
    #[arg(long, value_name = "ID")]
    server_id: String,

    /// Server address (AppAddr/1/Addr, AddrType URI), e.g. https://dm.example.com/dm.
    #[arg(long, value_name = "URL")]
    addr: String,

    /// Port number (AppAddr/1/Port/1/PortNbr); omitted when absent.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,

    /// Display name of the account (Name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,

    /// The account's node name <X> under ./DMAcc [default: the ServerID, with characters other
    /// than letters, digits, '.', '-' and '_' replaced by '_'].
    #[arg(long, value_name = "X")]
    node: Option<String>,

    /// Client credentials (CLCRED AAuthName): the user name the client sends.
    #[arg(long, value_name = "USER", requires = "client_secret")]
    client_name: Option<String>,

    /// Client credentials (CLCRED AAuthSecret).
    #[arg(long, value_name = "PASSWORD", requires = "client_name")]
    client_secret: Option<String>,

    /// Server credentials (SRVCRED AAuthSecret; AAuthName is the ServerID).
    #[arg(long, value_name = "PASSWORD")]
    server_secret: Option<String>,

    /// AAuthType of the AppAuth entries (BASIC, DIGEST, HMAC...).
    #[arg(long, value_name = "TYPE", default_value = "DIGEST")]
    auth_type: String,

    /// Security method: NETWORKID, USERPIN or USERPIN_NETWORKID.
    #[arg(long, value_name = "METHOD", value_parser = parse_method)]
    sec: SecMethod,

    #[command(flatten)]
    secrets: SecretArgs,

    /// Output file for the WBXML bootstrap document.
    #[arg(short, long, value_name = "OUT")]
    output: String,
}

/// Verify a bootstrap's MAC.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bootstrap body (WBXML); `-` reads stdin.
    #[arg(value_name = "FILE")]
    input: String,

    /// Security method: NETWORKID, USERPIN or USERPIN_NETWORKID.
    #[arg(long, value_name = "METHOD", value_parser = parse_method,
          required_unless_present = "content_type", conflicts_with = "content_type")]
    sec: Option<SecMethod>,

    /// The MAC, 40 hex digits.
    #[arg(
        long,
        value_name = "HEX",
        required_unless_present = "content_type",
        conflicts_with = "content_type"
    )]
    mac: Option<String>,

    /// The whole Content-Type value instead of --sec and --mac.
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,

    #[command(flatten)]
    secrets: SecretArgs,

    /// Tree the document is added to with --apply (TNDS, XML or WBXML) [default: empty].
    #[arg(long, value_name = "TREE", requires = "apply")]
    tree: Option<String>,

    /// Also decode the document and show what it would add to the tree.
    #[arg(long)]
    apply: bool,
}

fn parse_method(s: &str) -> Result<SecMethod, String> {
    s.parse()
        .map_err(|_| "expected NETWORKID, USERPIN or USERPIN_NETWORKID".to_owned())
}

fn default_node(server_id: &str) -> String {
    let n: String = server_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if n.is_empty() || n == "." || n == ".." {
        "account".to_owned()
    } else {
        n
    }
}

fn build(a: &BuildArgs) -> Result<()> {
    let mut auths = Vec::new();
    if let (Some(name), Some(secret)) = (&a.client_name, &a.client_secret) {
        auths.push(AppAuth {
            level: "CLCRED".to_owned(),
            auth_type: a.auth_type.clone(),
            name: name.clone(),
            secret: secret.clone(),
            data: Vec::new(),
        });
    }
    if let Some(secret) = &a.server_secret {
        auths.push(AppAuth {
            level: "SRVCRED".to_owned(),
            auth_type: a.auth_type.clone(),
            name: a.server_id.clone(),
            secret: secret.clone(),
            data: Vec::new(),
        });
    }
    let acc = DmAcc {
        node: a.node.clone().unwrap_or_else(|| default_node(&a.server_id)),
        server_id: a.server_id.clone(),
        name: a.name.clone(),
        pref_con_ref: None,
        addrs: vec![(
            a.addr.clone(),
            "URI".to_owned(),
            a.port.into_iter().collect(),
        )],
        aauth_pref: None,
        auths,
    };
    let (wbxml, ct) = bootstrap::build(&dmacc_document(&acc), a.sec, &a.secrets.secrets())?;
    let out = Output::from_arg(Some(&a.output));
    if out.is_terminal() {
        anyhow::bail!("refusing to write WBXML to a terminal; give -o FILE");
    }
    out.write(&wbxml)?;
    if !matches!(out, Output::Stdout) {
        println!("Content-Type: {ct}");
    } else {
        eprintln!("Content-Type: {ct}");
    }
    Ok(())
}

fn verify(a: &VerifyArgs) -> Result<()> {
    let input = io::read_input(&a.input, TndsLimits::default().max_bytes)?;
    let name = &input.name;
    let ct = match (&a.content_type, a.sec, &a.mac) {
        (Some(ct), _, _) => ct.parse::<BootstrapContentType>()?,
        (None, Some(sec), Some(mac)) => BootstrapContentType {
            sec,
            mac: mac.parse::<Mac>()?,
        },
        _ => crate::usage_error(
            &["bootstrap", "verify"],
            "give --sec and --mac, or --content-type",
        ),
    };
    let secrets = a.secrets.secrets();
    bootstrap::verify(&input.bytes, &ct, &secrets).with_context(|| name.clone())?;
    println!("{name}: MAC verifies (SEC={})", ct.sec);
    if !a.apply {
        return Ok(());
    }
    let mut tree = match &a.tree {
        Some(path) => load_tree(path)?,
        None => Tree::default(),
    };
    let created = bootstrap::verify_and_apply_with(
        &mut tree,
        &input.bytes,
        &ct.to_string(),
        &secrets,
        &ImportPolicy::default(),
    )
    .map_err(|e| match &e {
        bootstrap::BootstrapError::Tree(t) => anyhow!("{name}: {}: {e}", status::text(t.status())),
        bootstrap::BootstrapError::Tnds(t) => anyhow!("{name}: {}: {e}", status::text(t.status())),
        _ => anyhow!("{name}: {e}"),
    })?;
    let mut out = String::from("would create:\n");
    for root in &created {
        let listed = tree
            .list(Caller::Device, root, true)
            .map_err(|e| anyhow!("{root}: {e}"))?;
        for l in listed {
            let v = &l.value;
            let secret = l.uri.ends_with("/AAuthSecret") || l.uri.ends_with("/AAuthData");
            let data = if v.format == omadm_tree::format::NodeFormat::Node {
                String::new()
            } else if secret {
                // The device never lets these be read back (no Get); neither do we print them.
                format!(" = <secret, {} bytes>", v.data.len())
            } else {
                match std::str::from_utf8(&v.data) {
                    Ok(s) if v.format != omadm_tree::format::NodeFormat::Bin => format!(" = {s:?}"),
                    _ => format!(" = <{} bytes>", v.data.len()),
                }
            };
            let ty = if v.type_.is_empty() {
                String::new()
            } else {
                format!(" ({})", v.type_)
            };
            out.push_str(&format!("  {}{ty}{data}\n", l.uri));
        }
    }
    io::Output::Stdout.write(out.as_bytes())
}

/// A tree loaded from a TNDS document at the root as the device (as `omadm tree show` loads it).
fn load_tree(path: &str) -> Result<Tree> {
    let input = io::read_input(path, TndsLimits::default().max_bytes)?;
    crate::tree::load::load(&input, ".")
}
