//! Atomic and Sequence (DM RepPro 1.2 §4.1, DIGEST.md §2.3).

use omadm_syncml::{Command, Container};

use super::{succeeded, Answer, Executor, Scope};

/// DIGEST.md §2.3: a nested Atomic or a Get inside Atomic fails the Atomic with 500; so does an
/// Exec, which "must be inside SyncBody or Sequence" (its effect cannot be rolled back).
fn forbidden_in_atomic(cmds: &[Command]) -> bool {
    cmds.iter().any(|c| match c {
        Command::Atomic(_) | Command::Get(_) | Command::Exec(_) => true,
        Command::Sequence(s) => forbidden_in_atomic(&s.commands),
        _ => false,
    })
}

impl Executor<'_> {
    /// Sequence: the children in order; 200 for the Sequence once it began. A 1101 confirmation
    /// answered "No" bypasses the rest of the Sequence, which answers 215 (DM Protocol 1.3
    /// §10.2.2).
    pub(super) fn sequence(&mut self, c: &Container, scope: Scope) -> Answer {
        let inner = if scope == Scope::Atomic {
            Scope::Atomic
        } else {
            Scope::Sequence
        };
        let mut ans = Answer {
            ok: true,
            ..Answer::default()
        };
        if !c.no_resp {
            ans.out.push(self.status("Sequence", &c.cmd_id, 200, None));
        }
        let mut bypass = false;
        for k in &c.commands {
            if bypass || self.cancelled {
                ans.out.extend(self.skip(k));
                continue;
            }
            let a = self.run(k, inner);
            ans.ok &= a.ok;
            bypass |= a.rejected;
            ans.out.extend(a.out);
        }
        ans
    }

    /// Atomic: all or nothing in one tree transaction. When a child fails the tree is rolled
    /// back: the Atomic answers 507, every child that had succeeded 216 (Atomic roll back OK),
    /// the failed one keeps its code and the ones not run 215. 516 if the rollback itself fails.
    pub(super) fn atomic(&mut self, c: &Container, scope: Scope) -> Answer {
        if scope == Scope::Atomic || forbidden_in_atomic(&c.commands) || self.tree.begin().is_err()
        {
            return self.atomic_refused(c);
        }
        // (was run, its answers), in order.
        let mut children: Vec<(bool, Vec<Command>)> = Vec::new();
        let mut failed = false;
        for k in &c.commands {
            if failed || self.cancelled {
                children.push((false, self.skip(k)));
                continue;
            }
            let a = self.run(k, Scope::Atomic);
            failed |= !a.ok;
            children.push((true, a.out));
        }
        let code = if failed {
            for (_, out) in children.iter_mut().filter(|(ran, _)| *ran) {
                mark_rolled_back(out);
            }
            match self.tree.rollback() {
                Ok(()) => 507,
                Err(_) => 516,
            }
        } else {
            match self.tree.commit() {
                Ok(()) => 200,
                Err(_) => 500,
            }
        };
        let mut out = Vec::new();
        if !c.no_resp {
            out.push(self.status("Atomic", &c.cmd_id, code, None));
        }
        out.extend(children.into_iter().flat_map(|(_, o)| o));
        Answer {
            ok: code == 200,
            rejected: false,
            out,
        }
    }

    fn atomic_refused(&self, c: &Container) -> Answer {
        let mut out = Vec::new();
        if !c.no_resp {
            out.push(self.status("Atomic", &c.cmd_id, 500, None));
        }
        for k in &c.commands {
            out.extend(self.skip(k));
        }
        Answer {
            ok: false,
            rejected: false,
            out,
        }
    }
}

/// 216 (Atomic roll back OK) for every answer that had succeeded; Results of rolled back
/// commands are not sent.
fn mark_rolled_back(out: &mut Vec<Command>) {
    out.retain(|c| !matches!(c, Command::Results(_)));
    for c in out {
        if let Command::Status(st) = c {
            if st.code().is_some_and(|code| succeeded(code.0)) {
                st.data = "216".into();
            }
        }
    }
}
