//! `Client::token` reaches the server on every path, as the npm client's `token` does: the
//! `x-rivet-token` header on stateless calls, a `rivet_token.<token>` subprotocol on
//! WebSocket connections (which browsers cannot give headers).

use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Desk;

#[actor]
impl Desk {
    /// The token the connection came with, from wherever its kind of request carries it.
    #[conn_state]
    fn token_seen(&self, c: &ConnectCtx<'_, Self>) -> String {
        let Some(request) = c.request() else {
            return "no request".into();
        };
        if let Some(token) = request.header_str("x-rivet-token") {
            return format!("header {token}");
        }
        let protocols = request.header_str("sec-websocket-protocol").unwrap_or("");
        protocols
            .split(',')
            .find_map(|entry| entry.trim().strip_prefix("rivet_token."))
            .map_or_else(|| "none".into(), |token| format!("subprotocol {token}"))
    }

    #[action]
    fn token(&self, c: &ActionCtx<'_, Self>) -> String {
        c.conn().state().clone()
    }
}

#[tokio::test]
async fn the_token_goes_with_calls_and_connections() {
    let registry = Registry::builder().in_memory().register::<Desk>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let plain = Client::new(server.endpoint());
    assert_eq!(
        plain.get_or_create::<Desk>("d").token().await.unwrap(),
        "none"
    );

    let client = Client::new(server.endpoint()).token("t0k-1");
    let desk = client.get_or_create::<Desk>("d");
    assert_eq!(desk.token().await.unwrap(), "header t0k-1");
    let conn = desk.connect().await.unwrap();
    assert_eq!(conn.token().await.unwrap(), "subprotocol t0k-1");
    conn.close().await;
    // Set twice: the last one, once.
    let again = client.token("t0k-2").get_or_create::<Desk>("d");
    assert_eq!(again.token().await.unwrap(), "header t0k-2");
    server.shutdown().await.unwrap();
}
