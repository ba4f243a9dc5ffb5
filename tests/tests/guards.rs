//! Connection guards attached from outside an actor's impl block (the agentOS pattern),
//! end to end over the network.

use rivet_actor::guard::{ConnectGuard, GuardCtx};
use rivet_actor::prelude::*;

/// Stands for an actor a library defines: no hooks of its own.
mod library {
    use rivet_actor::prelude::*;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Vm {
        pub runs: u32,
    }

    #[actor]
    impl Vm {
        #[action]
        fn run(&mut self, c: &mut ActionCtx<'_, Self>) -> String {
            self.runs += 1;
            let user = c.conn().extension::<super::User>().map(|u| u.id.clone());
            format!(
                "run {} by {}",
                self.runs,
                user.unwrap_or_else(|| "nobody".into())
            )
        }
    }
}

use library::Vm;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthParams {
    auth_token: String,
}

struct User {
    id: String,
}

struct TokenGuard;

impl ConnectGuard<Vm> for TokenGuard {
    type Params = AuthParams;
    type Identity = User;

    async fn check(
        &self,
        _c: &GuardCtx<'_>,
        params: AuthParams,
    ) -> Result<User, rivet_actor::Error> {
        if params.auth_token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden").into());
        }
        Ok(User {
            id: format!("user-{}", params.auth_token),
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Params<'a> {
    auth_token: &'a str,
}

#[tokio::test]
async fn a_guard_gates_an_actor_it_did_not_define() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Vm>()
        .guard::<Vm, _>(TokenGuard)
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());

    let allowed = client
        .get_or_create::<Vm>(["agent"])
        .params(Params { auth_token: "ann" });
    assert_eq!(allowed.run().await.unwrap(), "run 1 by user-ann");
    let conn = allowed.connect().await.unwrap();
    assert_eq!(conn.run().await.unwrap(), "run 2 by user-ann");

    let refused = client
        .get_or_create::<Vm>(["agent"])
        .params(Params { auth_token: "" });
    assert_eq!(refused.run().await.unwrap_err().code(), Some("forbidden"));
    assert_eq!(
        refused.connect().await.err().unwrap().code(),
        Some("forbidden")
    );
    let missing = client.get_or_create::<Vm>(["agent"]);
    assert_eq!(
        missing.run().await.unwrap_err().code(),
        Some("invalid_params")
    );
    // Refused calls ran nothing.
    assert_eq!(allowed.run().await.unwrap(), "run 3 by user-ann");
}
