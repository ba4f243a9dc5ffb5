//! A chat room written as `#[actor]` expands it (modulo hygiene): the contract between the
//! macro and the runtime, used to test the runtime without the macro.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use rivet_actor::__private;
use rivet_actor::actor::{ActionTarget, ActorCall, ActorReturn, Target};
use rivet_actor::client::Invoker;
use rivet_actor::prelude::*;
use rivet_actor::value::Value;

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

// #[actor(events(new_message = NewMessage))]
impl ChatRoom {
    // #[create_vars]
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

    // #[before_connect]
    async fn check(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<(), UserError> {
        c.vars().log.lock().unwrap().push("before_connect".into());
        if params.auth_token == "slow" {
            // A hook that hangs: the connect-hook timeout must cut it off.
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
        if params.auth_token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden"));
        }
        Ok(())
    }

    // Part of before_connect in spirit: a connect hook failing with an internal error.
    fn explode_on_connect(params: &ConnParams) -> Result<(), rivet_actor::Error> {
        if params.auth_token == "explode" {
            return Err(std::io::Error::other("secret-internal-detail").into());
        }
        if params.auth_token == "panic" {
            panic!("secret-internal-detail");
        }
        Ok(())
    }

    // #[conn_state]
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

    // #[on_connect]
    fn connected(&mut self, c: &mut ActionCtx<'_, Self>) {
        c.vars().log.lock().unwrap().push("on_connect".into());
    }

    // #[on_disconnect]
    fn disconnected(&mut self, c: &mut ActionCtx<'_, Self>) {
        c.vars().log.lock().unwrap().push("on_disconnect".into());
    }

    // #[can_invoke]
    fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        match invoke {
            Invoke::Action(ChatRoomAction::SendMessage) => c.conn().state().role == "member",
            Invoke::Action(ChatRoomAction::GetMessages) => true,
            Invoke::Action(ChatRoomAction::Explode) => true,
            Invoke::Subscribe(ChatRoomEvent::NewMessage) => true,
            _ => false,
        }
    }

    // #[action]
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

    // #[action]
    fn get_messages(&self) -> Vec<Message> {
        self.messages.clone()
    }

    // #[action]
    fn explode(&mut self) -> u32 {
        self.messages.push(Message {
            user_id: "x".into(),
            text: "half-done".into(),
        });
        panic!("secret-internal-detail")
    }
}

// ---------------------------------------------------------------- what #[actor] generates

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChatRoomAction {
    SendMessage,
    GetMessages,
    Explode,
}

impl Target for ChatRoomAction {
    const ALL: &'static [Self] = &[Self::SendMessage, Self::GetMessages, Self::Explode];
    fn name(self) -> &'static str {
        match self {
            Self::SendMessage => "sendMessage",
            Self::GetMessages => "getMessages",
            Self::Explode => "explode",
        }
    }
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sendMessage" => Some(Self::SendMessage),
            "getMessages" => Some(Self::GetMessages),
            "explode" => Some(Self::Explode),
            _ => None,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

impl ActionTarget for ChatRoomAction {
    fn is_read_only(self) -> bool {
        match self {
            Self::SendMessage => false,
            Self::GetMessages => true,
            Self::Explode => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChatRoomEvent {
    NewMessage,
}

impl Target for ChatRoomEvent {
    const ALL: &'static [Self] = &[Self::NewMessage];
    fn name(self) -> &'static str {
        match self {
            Self::NewMessage => "newMessage",
        }
    }
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "newMessage" => Some(Self::NewMessage),
            _ => None,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChatRoomQueue {}

impl Target for ChatRoomQueue {
    const ALL: &'static [Self] = &[];
    fn name(self) -> &'static str {
        match self {}
    }
    fn from_name(_name: &str) -> Option<Self> {
        None
    }
    fn index(self) -> usize {
        match self {}
    }
}

impl rivet_actor::Event<ChatRoom> for NewMessage {
    const TARGET: ChatRoomEvent = ChatRoomEvent::NewMessage;
}

#[doc(hidden)]
pub enum ChatRoomCall {
    SendMessage((String,)),
    GetMessages(()),
    Explode(()),
}

#[doc(hidden)]
pub enum ChatRoomReturn {
    SendMessage(()),
    GetMessages(Vec<Message>),
    Explode(u32),
}

impl ActorCall<ChatRoom> for ChatRoomCall {
    fn action(&self) -> ChatRoomAction {
        match self {
            Self::SendMessage(..) => ChatRoomAction::SendMessage,
            Self::GetMessages(..) => ChatRoomAction::GetMessages,
            Self::Explode(..) => ChatRoomAction::Explode,
        }
    }
    fn to_args(&self) -> Result<Vec<Value>, rivet_actor::Error> {
        match self {
            Self::SendMessage((a0,)) => Ok(vec![__private::encode(a0)?]),
            Self::GetMessages(()) => Ok(vec![]),
            Self::Explode(()) => Ok(vec![]),
        }
    }
    fn from_args(action: ChatRoomAction, args: Vec<Value>) -> Result<Self, ActorError> {
        match action {
            ChatRoomAction::SendMessage => {
                let mut args = __private::Args::new("sendMessage", args, 1)?;
                Ok(Self::SendMessage((args.next::<String>("text")?,)))
            }
            ChatRoomAction::GetMessages => {
                __private::Args::new("getMessages", args, 0)?;
                Ok(Self::GetMessages(()))
            }
            ChatRoomAction::Explode => {
                __private::Args::new("explode", args, 0)?;
                Ok(Self::Explode(()))
            }
        }
    }
}

impl ActorReturn for ChatRoomReturn {
    fn to_value(&self) -> Result<Value, rivet_actor::Error> {
        match self {
            Self::SendMessage(v) => __private::encode(v),
            Self::GetMessages(v) => __private::encode(v),
            Self::Explode(v) => __private::encode(v),
        }
    }
}

pub struct ChatRoomMethods<I> {
    invoker: I,
}

impl<I> From<I> for ChatRoomMethods<I> {
    fn from(invoker: I) -> Self {
        Self { invoker }
    }
}

impl<I: Invoker<ChatRoom>> ChatRoomMethods<I> {
    pub async fn send_message(&self, text: String) -> Result<(), ClientError> {
        self.invoker
            .invoke(ChatRoomCall::SendMessage((text,)), |ret| match ret {
                ChatRoomReturn::SendMessage(v) => Some(v),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .await
    }
    pub async fn get_messages(&self) -> Result<Vec<Message>, ClientError> {
        self.invoker
            .invoke(ChatRoomCall::GetMessages(()), |ret| match ret {
                ChatRoomReturn::GetMessages(v) => Some(v),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .await
    }
    pub async fn explode(&self) -> Result<u32, ClientError> {
        self.invoker
            .invoke(ChatRoomCall::Explode(()), |ret| match ret {
                ChatRoomReturn::Explode(v) => Some(v),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .await
    }
}

impl rivet_actor::__private::ActorOptions for ChatRoom {}

impl Actor for ChatRoom {
    const NAME: &'static str = "chatRoom";
    const READS_PARAMS: bool = true;
    const ON_CONNECT_MUTATES: bool = true;
    const ON_DISCONNECT_MUTATES: bool = true;
    type Input = rivet_actor::NoParams;
    type ConnParams = ConnParams;
    type ConnState = ConnState;
    type Vars = Vars;
    type Action = ChatRoomAction;
    type Event = ChatRoomEvent;
    type Queue = ChatRoomQueue;
    type Call = ChatRoomCall;
    type Return = ChatRoomReturn;
    type Methods<I: Invoker<Self>> = ChatRoomMethods<I>;

    async fn create_state(
        _ctx: &CreateCtx<'_>,
        _input: Self::Input,
    ) -> Result<Self, rivet_actor::Error> {
        Ok(<Self as Default>::default())
    }

    async fn create_vars(&self, ctx: &CreateCtx<'_>) -> Result<Self::Vars, rivet_actor::Error> {
        Ok(Self::vars(self, ctx))
    }

    async fn before_connect(
        &self,
        ctx: &mut ConnectCtx<'_, Self>,
        params: &Self::ConnParams,
    ) -> Result<(), rivet_actor::Error> {
        Self::explode_on_connect(params)?;
        __private::IntoHookResult::into_hook_result(Self::check(self, ctx, params).await)
    }

    async fn conn_state(
        &self,
        ctx: &mut ConnectCtx<'_, Self>,
        params: &Self::ConnParams,
    ) -> Result<Self::ConnState, rivet_actor::Error> {
        __private::IntoHookResult::into_hook_result(Self::auth(self, ctx, params))
    }

    async fn on_connect(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
    ) -> Result<(), rivet_actor::Error> {
        Self::connected(self, ctx);
        Ok(())
    }

    async fn on_disconnect(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
    ) -> Result<(), rivet_actor::Error> {
        Self::disconnected(self, ctx);
        Ok(())
    }

    async fn can_invoke(&self, ctx: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        Self::allow(self, ctx, invoke)
    }

    async fn dispatch(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
        call: Self::Call,
    ) -> Result<Self::Return, rivet_actor::Error> {
        match call {
            ChatRoomCall::SendMessage((a0,)) => {
                __private::IntoHookResult::into_hook_result(Self::send_message(self, ctx, a0).await)
                    .map(ChatRoomReturn::SendMessage)
            }
            ChatRoomCall::GetMessages(()) => {
                Ok(ChatRoomReturn::GetMessages(Self::get_messages(self)))
            }
            ChatRoomCall::Explode(()) => Ok(ChatRoomReturn::Explode(Self::explode(self))),
        }
    }
}
