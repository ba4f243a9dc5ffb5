//! The TypeScript types `Registry::typescript` writes for the seed actors, checked by the
//! real compiler (`typescript` pinned in `tests/js/package.json`) with the real npm client's
//! types: a correct use compiles, and each wrong use (argument type, unknown action, result
//! type, unknown actor, event payload) is refused, for the reason it is wrong.

mod common;
#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

use std::path::Path;
use std::process::Command;

use rivet_actor_examples::seeds;

/// Runs `tsc` on one file of `tests/js/types/`; its exit success and its output.
fn tsc(types: &Path, file: &str) -> (bool, String) {
    let compiler = js::js_dir().join("node_modules/typescript/bin/tsc");
    let out = Command::new("node")
        .arg(compiler)
        .args([
            "--noEmit",
            "--strict",
            "--target",
            "es2022",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "--skipLibCheck",
            file,
        ])
        .current_dir(types)
        .output()
        .expect("node could not be run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn tsc_accepts_correct_uses_of_the_generated_types_and_refuses_wrong_ones() {
    js::install_node_modules();
    let types = js::js_dir().join("types");
    let generated = types.join("generated");
    std::fs::create_dir_all(&generated).unwrap();
    let module = seeds::registry(common::config()).typescript();
    std::fs::write(generated.join("actors.ts"), &module).unwrap();

    let (ok, out) = tsc(&types, "good.ts");
    assert!(
        ok,
        "tsc refused the correct uses:\n{out}\n--- module:\n{module}"
    );
    for (file, code) in [
        ("wrong_argument.ts", "TS2345"),
        ("unknown_action.ts", "TS2551"),
        ("wrong_result.ts", "TS2322"),
        ("unknown_actor.ts", "TS2551"),
        ("wrong_event.ts", "TS2769"),
    ] {
        let (ok, out) = tsc(&types, file);
        assert!(!ok, "tsc accepted {file}:\n{out}");
        assert!(
            out.contains(&format!("{file}(")) && out.contains(code),
            "{file} was refused, but not with {code} at its wrong use:\n{out}"
        );
    }
}

mod serde_shapes {
    use rivet_actor::prelude::*;
    use ts_rs::TS;

    #[derive(Clone, Serialize, Deserialize, TS)]
    #[serde(rename_all = "camelCase")]
    pub struct Ticket {
        pub ticket_id: String,
        pub assignee: Option<String>,
        pub status: Status,
    }

    #[derive(Clone, Serialize, Deserialize, TS)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Status {
        Open,
        Closed { reason: String },
    }

    /// Not `TS`: it reaches TypeScript as `unknown`, and the actor still compiles.
    #[derive(Clone, Serialize, Deserialize)]
    pub struct Opaque(pub u8);

    #[derive(Default, Serialize, Deserialize)]
    pub struct Desk {
        tickets: Vec<Ticket>,
    }

    #[actor(events(ticket_closed = Ticket), queues(imports = Ticket -> u32))]
    impl Desk {
        #[action]
        fn open(&mut self, ticket: Ticket) -> Result<usize, UserError> {
            self.tickets.push(ticket);
            Ok(self.tickets.len())
        }

        #[action]
        fn find(&self, default: String, limit: Option<u32>) -> Vec<Ticket> {
            let _ = (default, limit);
            self.tickets.clone()
        }

        #[action]
        fn opaque(&self) -> Opaque {
            Opaque(0)
        }
    }
}

#[test]
fn serde_attributes_options_and_enums_reach_typescript() {
    let module = rivet_actor::Registry::builder()
        .in_memory()
        .register::<serde_shapes::Desk>()
        .build()
        .typescript();
    for expected in [
        "ticketId: string",
        "assignee: string | null",
        "status: Status",
        "\"kind\": \"open\"",
        "\"kind\": \"closed\", reason: string",
        "open: (_c, ticket: Ticket): number => stub(),",
        "find: (_c, default_: string, limit: number | null): Array<Ticket> => stub(),",
        "opaque: (_c): unknown => stub(),",
        "ticketClosed: payload<Ticket>(),",
        "imports: queue<Ticket, number>(),",
        "desk: actor0,",
    ] {
        assert!(
            module.contains(expected),
            "missing `{expected}` in:\n{module}"
        );
    }
}

/// Two actors whose messages are two Rust types of one name.
mod same_names {
    use rivet_actor::prelude::*;
    use ts_rs::TS;

    pub mod chat {
        use super::*;

        #[derive(Clone, Serialize, Deserialize, TS)]
        pub struct Message {
            pub text: String,
        }
    }

    pub mod mail {
        use super::*;

        #[derive(Clone, Serialize, Deserialize, TS)]
        pub struct Message {
            pub subject: String,
        }
    }

    #[derive(Default, Serialize, Deserialize)]
    pub struct Chat;

    #[actor]
    impl Chat {
        /// Parameter names strict JavaScript cannot bind, and the stubs' own `_c`.
        #[action]
        fn post(
            &self,
            message: chat::Message,
            arguments: String,
            _c: u32,
            _c_: bool,
        ) -> chat::Message {
            let _ = (arguments, _c, _c_);
            message
        }
    }

    #[derive(Default, Serialize, Deserialize)]
    pub struct Mail;

    #[actor]
    impl Mail {
        #[action]
        fn send_letter(&self, message: mail::Message) -> mail::Message {
            message
        }
    }
}

#[test]
fn rust_types_sharing_a_name_are_refused_by_tsc_not_mistyped() {
    js::install_node_modules();
    let module = rivet_actor::Registry::builder()
        .in_memory()
        .register::<same_names::Chat>()
        .register::<same_names::Mail>()
        .build()
        .typescript();
    assert!(
        module.contains("these Rust types are all called `Message`")
            && module.contains("same_names::chat::Message")
            && module.contains("same_names::mail::Message"),
        "the clash is not named:\n{module}"
    );
    assert!(
        module.contains("export type Message = { text: string, };"),
        "{module}"
    );
    assert!(
        module.contains("export type Message = { subject: string, };"),
        "{module}"
    );
    assert!(
        module.contains(
            "post: (_c, message: Message, arguments_: string, _c_: number, _c__: boolean)"
        ),
        "{module}"
    );
    let types = js::js_dir().join("types");
    let generated = types.join("generated");
    std::fs::create_dir_all(&generated).unwrap();
    std::fs::write(generated.join("clash.ts"), &module).unwrap();
    let (ok, out) = tsc(&types, "generated/clash.ts");
    assert!(
        !ok && out.contains("TS2300"),
        "tsc did not refuse the clash:\n{out}"
    );
}
