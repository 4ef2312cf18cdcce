//! Virtual URIs in a Sessionless Command Message (Sessionless 1.3 §6.2.2, DM-SM-C-006).
//!
//! The executor takes concrete paths only, so each Item's Target and Source LocURI that is a
//! virtual URI (PROVISIONAL grammar, [`omadm_tree::uri::VirtualUri`]) is rewritten here, before
//! anything runs, to the concrete path [`Tree::resolve_virtual`] gives; a query (`?prop=...`)
//! is kept. ACLs are then evaluated by the executor on that concrete path.
//!
//! Choice: a virtual URI naming no instance, or several (`x` with more than one instance), rejects
//! the whole message rather than applying the command to each instance. The server gets no answer
//! to a sessionless message, so it could not learn which instances were changed; `Tree::get_uri`
//! makes the same choice for Get ("the server must name the instance").

use omadm_syncml::{Command, Item, Location};
use omadm_tree::uri::{self, Address};
use omadm_tree::Tree;

use super::Rejected;

/// Rewrites every virtual LocURI of `cmds` (containers included) to its concrete path.
pub(super) fn resolve_all(tree: &Tree, cmds: &mut [Command]) -> Result<(), Rejected> {
    for cmd in cmds {
        match cmd {
            Command::Add(c)
            | Command::Replace(c)
            | Command::Delete(c)
            | Command::Copy(c)
            | Command::Get(c) => items(tree, &mut c.items)?,
            Command::Exec(e) => items(tree, &mut e.items)?,
            Command::Atomic(c) | Command::Sequence(c) => resolve_all(tree, &mut c.commands)?,
            Command::Alert(_)
            | Command::Status(_)
            | Command::Results(_)
            | Command::Unsupported(_) => {}
        }
    }
    Ok(())
}

fn items(tree: &Tree, items: &mut [Item]) -> Result<(), Rejected> {
    for it in items {
        for loc in [it.target.as_mut(), it.source.as_mut()]
            .into_iter()
            .flatten()
        {
            location(tree, loc)?;
        }
    }
    Ok(())
}

fn location(tree: &Tree, loc: &mut Location) -> Result<(), Rejected> {
    // A LocURI that does not parse is left to the executor, which answers it with its status.
    let Ok(parsed) = uri::parse(&loc.loc_uri, &tree.limits()) else {
        return Ok(());
    };
    let Address::Virtual(v) = parsed.address else {
        return Ok(());
    };
    let mut found = tree.resolve_virtual(&v);
    if found.len() != 1 {
        return Err(Rejected::VirtualUri {
            uri: loc.loc_uri.to_string(),
            instances: found.len(),
        });
    }
    let mut concrete = found.remove(0);
    if let Some((_, query)) = loc.loc_uri.split_once('?') {
        concrete.push('?');
        concrete.push_str(query);
    }
    loc.loc_uri = concrete.into();
    Ok(())
}
