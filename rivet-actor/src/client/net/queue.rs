//! Queue sends over HTTP from an [`ActorHandle`] or an [`ActorConn`]:
//! `POST /gateway/…/queue/{name}`.

use std::time::Duration;

use crate::actor::{Actor, Queue, Target as _};
use crate::client::net::conn::ActorConn;
use crate::client::net::handle::{ActorHandle, HandleShared};
use crate::client::net::{error_from_body, request_failed};
use crate::error::ClientError;
use crate::protocol::names;
use crate::protocol::{self, QueueSendRequest, QueueSendStatus};
use crate::queue::QueueSendResult;

impl<A: Actor> ActorHandle<A> {
    /// Sends `message` to its queue (declared with `#[actor(queues(..))]`; only declared
    /// message types compile). Resolves once the message is durably queued.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// let worker = client.get_or_create::<Worker>("w");
    /// worker.send(Job { task: "resize".into() }).await.unwrap();
    /// assert_eq!(worker.work().await.unwrap(), ["resize"]); // taken in a turn
    /// # });
    /// ```
    pub async fn send<T: Queue<A>>(&self, message: T) -> Result<(), ClientError> {
        post_queue::<A, T>(&self.shared, message, None)
            .await
            .map(drop)
    }

    /// Sends `message` and waits up to `timeout` for a consumer to complete it; the
    /// consumer's response is typed by the queue's declared completion type.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// use rivet_actor::queue::QueueSendResult;
    /// use std::time::Duration;
    ///
    /// // `#[actor(queues(questions = Question -> String))]`; the `#[run]` loop answers.
    /// let worker = client.get_or_create::<Worker>("w");
    /// let question = Question { text: "hi".into() };
    /// match worker.send_and_wait(question, Duration::from_secs(5)).await.unwrap() {
    ///     QueueSendResult::Completed(answer) => assert_eq!(answer.as_deref(), Some("HI")),
    ///     QueueSendResult::TimedOut => println!("still queued"),
    /// }
    /// # });
    /// ```
    pub async fn send_and_wait<T: Queue<A>>(
        &self,
        message: T,
        timeout: Duration,
    ) -> Result<QueueSendResult<T::Completion>, ClientError> {
        post_queue::<A, T>(&self.shared, message, Some(timeout)).await
    }
}

impl<A: Actor> ActorConn<A> {
    /// Sends `message` to its queue, like [`ActorHandle::send`]: over HTTP, on a throwaway
    /// connection with this connection's params (the protocol carries no queue message on
    /// the socket).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// let conn = client.get_or_create::<Worker>("w").connect().await.unwrap();
    /// conn.send(Job { task: "resize".into() }).await.unwrap(); // over HTTP
    /// assert_eq!(conn.work().await.unwrap(), ["resize"]);
    /// # });
    /// ```
    pub async fn send<T: Queue<A>>(&self, message: T) -> Result<(), ClientError> {
        post_queue::<A, T>(&self.handle, message, None)
            .await
            .map(drop)
    }

    /// Sends `message` and waits up to `timeout` for its completion, like
    /// [`ActorHandle::send_and_wait`].
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// use rivet_actor::queue::QueueSendResult;
    /// use std::time::Duration;
    ///
    /// let conn = client.get_or_create::<Worker>("w").connect().await.unwrap();
    /// let question = Question { text: "hi".into() };
    /// let answer = conn.send_and_wait(question, Duration::from_secs(5)).await.unwrap();
    /// assert_eq!(answer, QueueSendResult::Completed(Some("HI".into())));
    /// # });
    /// ```
    pub async fn send_and_wait<T: Queue<A>>(
        &self,
        message: T,
        timeout: Duration,
    ) -> Result<QueueSendResult<T::Completion>, ClientError> {
        post_queue::<A, T>(&self.handle, message, Some(timeout)).await
    }
}

async fn post_queue<A: Actor, T: Queue<A>>(
    shared: &HandleShared,
    message: T,
    wait: Option<Duration>,
) -> Result<QueueSendResult<T::Completion>, ClientError> {
    let body =
        crate::value::to_value(&message).map_err(|err| ClientError::Decode(err.to_string()))?;
    match post_queue_value(shared, T::TARGET.name(), body, wait, &[]).await? {
        QueueSendResult::TimedOut => Ok(QueueSendResult::TimedOut),
        QueueSendResult::Completed(response) => {
            let response = response
                .map(crate::value::from_value)
                .transpose()
                .map_err(|err| ClientError::Decode(err.to_string()))?;
            Ok(QueueSendResult::Completed(response))
        }
    }
}

/// A queue send by wire name and value (the typed sends, and engine mode's sends between
/// hosts), with `extra` headers; the completion's response comes back encoded.
pub(super) async fn post_queue_value(
    shared: &HandleShared,
    name: &str,
    body: crate::value::Value,
    wait: Option<Duration>,
    extra: &[(&str, String)],
) -> Result<QueueSendResult<crate::value::Value>, ClientError> {
    let inner = &shared.client.inner;
    let encoding = inner.encoding;
    let request = QueueSendRequest {
        name: Some(name.to_owned()),
        body,
        wait: wait.is_some(),
        timeout_ms: wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX)),
    };
    let url = shared
        .address
        .url(inner, shared.actor_name, &[names::SEGMENT_QUEUE, name])?;
    let mut http = inner
        .http
        .post(url)
        .header(names::HEADER_ENCODING, encoding.name())
        .header(http::header::CONTENT_TYPE, encoding.content_type())
        .body(protocol::encode_queue_send_request(encoding, &request));
    // A send that waits is answered `timedOut` at `wait`: the answer gets time to arrive
    // after it. One that does not wait gets the client's timeout, like a call.
    let timeout = match wait {
        Some(wait) => wait.saturating_add(Duration::from_secs(10)),
        None => inner.timeout,
    };
    http = http.timeout(timeout);
    for (name, value) in inner.headers.iter().chain(shared.headers.iter()) {
        http = http.header(name, value);
    }
    if let Some(params) = shared.params.current()? {
        http = http.header(names::HEADER_CONN_PARAMS, params);
    }
    for (name, value) in extra {
        http = http.header(*name, value);
    }
    let response = http.send().await.map_err(request_failed)?;
    let status = response.status();
    let bytes = super::body::read(response).await?;
    if !status.is_success() {
        return Err(error_from_body(encoding, status.as_u16(), &bytes));
    }
    let reply = protocol::decode_queue_send_response(encoding, &bytes)
        .map_err(|err| ClientError::Decode(err.to_string()))?;
    Ok(match reply.status {
        QueueSendStatus::TimedOut => QueueSendResult::TimedOut,
        QueueSendStatus::Completed => QueueSendResult::Completed(reply.response),
    })
}
