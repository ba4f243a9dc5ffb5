//! Stands for an actor a library defines (agentOS's `vm`): it has no hooks of its own. The
//! application decides who may connect by attaching guards from outside (see the parent
//! module); the VM reads what they learned as a [`Caller`].

use rivet_actor::prelude::*;
use ts_rs::TS;

/// Who is calling, as the VM understands it: what an application's guard attaches to a
/// connection (`{ userId, role }`, the seed's `ConnState`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    /// The caller's id.
    pub user_id: String,
    /// The caller's role.
    pub role: String,
}

/// A stand-in agent VM: it remembers the commands it ran.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vm {
    /// Every command run so far, with who ran it.
    pub history: Vec<String>,
}

#[actor]
impl Vm {
    /// "Runs" a command and says who ran it.
    #[action]
    fn exec(&mut self, c: &mut ActionCtx<'_, Self>, command: String) -> String {
        let who = c
            .conn()
            .extension::<Caller>()
            .map_or_else(|| "anonymous".to_owned(), |caller| caller.user_id.clone());
        let line = format!("{who}$ {command}");
        self.history.push(line.clone());
        line
    }

    /// The caller's identity, as a guard attached it (`null` without one).
    #[action]
    fn whoami(&self, c: &mut ActionCtx<'_, Self>) -> Option<Caller> {
        c.conn().extension::<Caller>().cloned()
    }
}
