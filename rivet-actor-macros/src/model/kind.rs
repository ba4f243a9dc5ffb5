//! What a method of the impl block is to the actor: which hook, or an action.

/// What a method of the impl block is to the actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Action,
    CreateState,
    CreateVars,
    OnMigrate,
    OnCreate,
    OnWake,
    OnSleep,
    OnDestroy,
    OnStateChange,
    BeforeConnect,
    ConnState,
    OnConnect,
    OnDisconnect,
    CanInvoke,
    CanSubscribe,
    CanPublish,
    OnRequest,
    OnWebSocket,
    Run,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::Action,
        Kind::CreateState,
        Kind::CreateVars,
        Kind::OnMigrate,
        Kind::OnCreate,
        Kind::OnWake,
        Kind::OnSleep,
        Kind::OnDestroy,
        Kind::OnStateChange,
        Kind::BeforeConnect,
        Kind::ConnState,
        Kind::OnConnect,
        Kind::OnDisconnect,
        Kind::CanInvoke,
        Kind::CanSubscribe,
        Kind::CanPublish,
        Kind::OnRequest,
        Kind::OnWebSocket,
        Kind::Run,
    ];

    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::CreateState => "create_state",
            Kind::CreateVars => "create_vars",
            Kind::OnMigrate => "on_migrate",
            Kind::OnCreate => "on_create",
            Kind::OnWake => "on_wake",
            Kind::OnSleep => "on_sleep",
            Kind::OnDestroy => "on_destroy",
            Kind::OnStateChange => "on_state_change",
            Kind::BeforeConnect => "before_connect",
            Kind::ConnState => "conn_state",
            Kind::OnConnect => "on_connect",
            Kind::OnDisconnect => "on_disconnect",
            Kind::CanInvoke => "can_invoke",
            Kind::CanSubscribe => "can_subscribe",
            Kind::CanPublish => "can_publish",
            Kind::OnRequest => "on_request",
            Kind::OnWebSocket => "on_websocket",
            Kind::Run => "run",
        }
    }

    /// What a targeted hook's argument names (`#[can_subscribe(event)]`).
    pub fn target_kind(self) -> Option<&'static str> {
        match self {
            Kind::CanSubscribe => Some("event"),
            Kind::CanPublish => Some("queue"),
            _ => None,
        }
    }

    /// The kind an attribute name stands for.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}
