//! Exec (DM RepPro 1.2 §4.1 Exec): runs the handler bound to the node; a long process answers
//! 202 and reports later in a Generic Alert carrying the Exec's Correlator.

use omadm_syncml::{Exec, ItemCommand};
use omadm_tree::plugin::ExecOutcome;

use super::item;
use super::{Answer, AsyncExec, Executor, ItemAnswer};

impl Executor<'_> {
    pub(super) fn exec(&mut self, e: &Exec) -> Answer {
        // The same Status rules as the other item commands.
        let c = ItemCommand {
            cmd_id: e.cmd_id.clone(),
            no_resp: e.no_resp,
            cred: None,
            meta: e.meta.clone(),
            items: e.items.clone(),
        };
        self.items("Exec", &c, |x, _, it| {
            let uri = item::target(it)?;
            let caller = x.caller();
            let r = x.plugins.exec(
                x.tree,
                caller,
                uri,
                item::value(it),
                e.correlator.as_deref(),
            );
            let code = match r {
                Ok(Ok(ExecOutcome::Done)) => 200,
                Ok(Ok(ExecOutcome::Accepted)) => {
                    x.pending.push(AsyncExec {
                        uri: uri.into(),
                        correlator: e.correlator.clone(),
                        cmd_id: e.cmd_id.clone(),
                    });
                    202
                }
                Ok(Err(code)) => code,
                Err(err) => err.status(),
            };
            Ok(ItemAnswer::from(code))
        })
    }
}
