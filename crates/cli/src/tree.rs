//! `omadm tree`: a management tree built from a TNDS document, seen as a device or a server
//! sees it.

pub(crate) mod load;
mod render;

use anyhow::{anyhow, Result};
use clap::{Subcommand, ValueEnum};
use omadm_tree::tnds::TndsLimits;
use omadm_tree::uri::TndsSelection;
use omadm_tree::{Caller, TreeError};

use crate::{io, status, tnds};

pub const ABOUT: &str = "Look at a management tree described by a TNDS document";

pub const LONG_ABOUT: &str = "\
Look at a management tree described by a TNDS document.

The tree is built the way a device builds it when a server Adds the document (TNDS, OMA DM Tree
and Description Serialization: XML application/vnd.syncml.dmtnds+xml or WBXML
application/vnd.syncml.dmtnds+wbxml), then read the way a DM server would read it.";

const SHOW_LONG_ABOUT: &str = "\
Show a management tree described by a TNDS document, as a device or one server sees it.

TREE is a TNDS document (OMA DM Tree and Description Serialization), XML
(application/vnd.syncml.dmtnds+xml) or WBXML (application/vnd.syncml.dmtnds+wbxml), told from
its bytes. It is imported into an empty tree as an Add of the document to --at (default `.`)
would import it: each top-level Node's Path and NodeName are relative to that target. A top-level
Node named `.`, or with an empty or missing NodeName, describes the target itself; at `.` its
children become the root's children and its ACL and Title become the root's (the root ACL must
keep Add=*; to load an object meant for another place, such as a DMAcc account, give --at
./DMAcc/NAME).

The node at URI (default `.`) and everything below it is then read with Get ?list=Struct,
?list=StructData or ?list=TNDS (--list). With --server-id every read is made as that server, so
the ACLs apply: nodes it may not Get are left out with their subtrees, and a URI it may not Get
fails with 425 Permission denied. Without it the device reads, and sees every node.

Output:
  struct      an indented tree: node name, Format, Type (the first line gives the full URI)
  structdata  the same plus leaf values: text quoted, bin values as hex up to 16 bytes, else
              as <N bytes>
  tnds        the subtree as a TNDS XML document with every property (?list=TNDS)

With --json (struct, structdata), one JSON array, parents before children:
  [{\"uri\": \"./DMAcc/srv\", \"format\": \"node\", \"type\": \"urn:oma:mo:oma-dm-dmacc:1.0\"},
   {\"uri\": \"./DMAcc/srv/Name\", \"format\": \"chr\", \"type\": \"text/plain\",
    \"value\": \"Example\", \"encoding\": \"text\"}, ...]
\"type\" is \"\" when unset. \"value\" and \"encoding\" appear for leaves with structdata only:
encoding \"text\" for a UTF-8 value of a Format other than bin, else \"base64\".

Exit status: 0 on success; 1 when TREE cannot be read, decoded or imported, or the URI cannot be
read (the message gives the DM status code and its meaning, e.g. 404 Not found,
425 Permission denied); 2 on usage errors.";

/// The `omadm tree` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Show(ShowArgs),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Show(_) => "tree show",
        }
    }

    pub fn run(&self) -> Result<()> {
        match self {
            Command::Show(args) => show(args),
        }
    }
}

/// Show a tree described by a TNDS document, as the device or one server sees it.
#[derive(Debug, clap::Args)]
#[command(long_about = SHOW_LONG_ABOUT)]
pub struct ShowArgs {
    /// TNDS document, XML or WBXML (told from its bytes); `-` reads stdin.
    #[arg(value_name = "TREE")]
    tree: String,

    /// Node to show, with its subtree.
    #[arg(value_name = "URI", default_value = ".")]
    uri: String,

    /// What to show.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = List::Struct)]
    list: List,

    /// Read as the server with this ServerID (ACLs apply); without it, as the device.
    #[arg(long, value_name = "ID")]
    server_id: Option<String>,

    /// Print a JSON array (shape in --help) instead of text; struct and structdata only.
    #[arg(long)]
    json: bool,

    /// Where the document is added, as the target URI of an Add.
    #[arg(long, value_name = "URI", default_value = ".")]
    at: String,
}

/// `?list=` kinds (TND §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum List {
    /// Structure: node names, Format and Type.
    Struct,
    /// Structure and leaf values.
    #[value(name = "structdata")]
    StructData,
    /// The subtree as TNDS XML.
    Tnds,
}

fn show(args: &ShowArgs) -> Result<()> {
    if args.json && args.list == List::Tnds {
        crate::usage_error(
            &["tree", "show"],
            "--json only applies to --list struct and --list structdata",
        );
    }
    let input = io::read_input(&args.tree, TndsLimits::default().max_bytes)?;
    let tree = load::load(&input, &args.at)?;
    let caller = match args.server_id.as_deref() {
        Some(id) => Caller::Server(id),
        None => Caller::Device,
    };
    let uri = args.uri.as_str();
    let out = match args.list {
        List::Tnds => {
            let doc = tree
                .export_tnds(caller, uri, &TndsSelection::All)
                .map_err(|e| tree_error(uri, &e))?;
            tnds::xml_document(&doc)
                .map_err(|e| anyhow!("{uri}: {}: {e}", status::text(e.status())))?
        }
        List::Struct | List::StructData => {
            let with_data = args.list == List::StructData;
            let listed = tree
                .list(caller, uri, with_data)
                .map_err(|e| tree_error(uri, &e))?;
            if args.json {
                render::json(&listed, with_data)?
            } else {
                render::text(&listed, with_data)
            }
            .into_bytes()
        }
    };
    io::Output::Stdout.write(&out)
}

/// `425 Permission denied: ./A/B: Get not permitted to server "srv2"`. URI and ACL errors do
/// not name the URI themselves; the others do.
fn tree_error(uri: &str, e: &TreeError) -> anyhow::Error {
    let code = status::text(e.status());
    match e {
        TreeError::Uri(_) | TreeError::Acl(_) | TreeError::Transaction(_) => {
            anyhow!("{code}: {uri}: {e}")
        }
        _ => anyhow!("{code}: {e}"),
    }
}
