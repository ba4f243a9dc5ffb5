//! The hand-expanded chat room of `rivet-actor/tests/common/chat_room.rs`, written with
//! `#[actor]`, run through the same tests: the macro keeps the contract.
#![allow(dead_code)]

mod chat_room {

    use std::sync::{Arc, Mutex};

    use rivet_actor::prelude::*;

    // ---------------------------------------------------------------- what the user writes

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Message {
        pub user_id: String,
        pub text: String,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct NewMessage {
        pub user_id: String,
        pub text: String,
    }

    #[derive(Default, Serialize, Deserialize)]
    pub struct ChatRoom {
        messages: Vec<Message>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct ConnParams {
        pub auth_token: String,
    }

    pub struct ConnState {
        pub user_id: String,
        pub role: String,
    }

    #[derive(Default)]
    pub struct Vars {
        log: Arc<Mutex<Vec<String>>>,
    }

    /// Shared with the test so it can read the hook order.
    pub static LOG: Mutex<Option<Arc<Mutex<Vec<String>>>>> = Mutex::new(None);

    #[actor(events(new_message = NewMessage))]
    impl ChatRoom {
        #[create_vars]
        fn vars(&self, c: &CreateCtx<'_>) -> Vars {
            // Only the hook-order test's actor records into the shared log.
            let shared = if c.key() == ["order"] {
                LOG.lock().unwrap().clone()
            } else {
                None
            };
            let log = shared.unwrap_or_default();
            log.lock().unwrap().push("create_vars".into());
            Vars { log }
        }

        #[before_connect]
        async fn check(
            &self,
            c: &mut ConnectCtx<'_, Self>,
            params: &ConnParams,
        ) -> Result<(), UserError> {
            c.vars().log.lock().unwrap().push("before_connect".into());
            if params.auth_token.is_empty() {
                return Err(UserError::new("Forbidden").code("forbidden"));
            }
            Ok(())
        }

        #[conn_state]
        fn auth(
            &self,
            c: &mut ConnectCtx<'_, Self>,
            params: &ConnParams,
        ) -> Result<ConnState, UserError> {
            c.vars().log.lock().unwrap().push("conn_state".into());
            let role = if params.auth_token == "guest" {
                "guest"
            } else {
                "member"
            };
            Ok(ConnState {
                user_id: format!("user-{}", params.auth_token),
                role: role.into(),
            })
        }

        #[on_connect]
        fn connected(&mut self, c: &mut ActionCtx<'_, Self>) {
            c.vars().log.lock().unwrap().push("on_connect".into());
        }

        #[on_disconnect]
        fn disconnected(&mut self, c: &mut ActionCtx<'_, Self>) {
            c.vars().log.lock().unwrap().push("on_disconnect".into());
        }

        #[can_invoke]
        fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
            match invoke {
                Invoke::Action(ChatRoomAction::SendMessage) => c.conn().state().role == "member",
                Invoke::Action(ChatRoomAction::GetMessages) => true,
                Invoke::Action(ChatRoomAction::Explode) => true,
                Invoke::Subscribe(ChatRoomEvent::NewMessage) => true,
                _ => false,
            }
        }

        #[action]
        async fn send_message(
            &mut self,
            c: &mut ActionCtx<'_, Self>,
            text: String,
        ) -> Result<(), UserError> {
            c.vars().log.lock().unwrap().push("action".into());
            if text.is_empty() {
                return Err(UserError::new("empty message")
                    .code("empty")
                    .metadata(serde_json::json!({"min": 1})));
            }
            let user_id = c.conn().state().user_id.clone();
            self.messages.push(Message {
                user_id: user_id.clone(),
                text: text.clone(),
            });
            if text == "fail-after-mutating" {
                return Err(UserError::new("rolled back").code("rolled_back"));
            }
            c.broadcast(NewMessage { user_id, text });
            Ok(())
        }

        #[action]
        fn get_messages(&self) -> Vec<Message> {
            self.messages.clone()
        }

        #[action]
        fn explode(&mut self) -> u32 {
            self.messages.push(Message {
                user_id: "x".into(),
                text: "half-done".into(),
            });
            panic!("secret-internal-detail")
        }
    }
}

use std::sync::{Arc, Mutex};

use chat_room::*;
use rivet_actor::prelude::*;
use rivet_actor::value::Value;

// ---------------------------------------------------------------- the tests

include!("../../rivet-actor/tests/common/chat_room_tests.rs");
