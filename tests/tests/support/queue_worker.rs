//! The queue tests' worker actor and helpers, shared by `queues.rs` and
//! `queues_lifecycle.rs`.
#![allow(dead_code)]

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub task: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
}

/// The `vault` queue: only `keeper` connections may send (`can_publish`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deposit {
    pub amount: u32,
}

/// The `admin` queue: refused by `can_invoke` unless the connection is `admin`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminJob {
    pub command: String,
}

#[derive(Serialize, Deserialize)]
pub struct Badge {
    pub role: String,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Worker {
    pub done: Vec<String>,
    pub answered: u32,
}

#[actor(queues(jobs = Job, questions = Question -> Answer, vault = Deposit, admin = AdminJob))]
impl Worker {
    #[conn_state]
    fn badge(&self, params: &Badge) -> String {
        params.role.clone()
    }

    #[can_invoke]
    fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        match invoke {
            Invoke::Queue(WorkerQueue::Admin) => c.conn().state() == "admin",
            _ => true,
        }
    }

    #[can_publish(vault)]
    fn keepers_deposit(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.conn().state() == "keeper"
    }

    /// Takes every waiting job in this turn; `fail` makes the turn fail after taking them.
    #[action]
    fn work(&mut self, c: &mut ActionCtx<'_, Self>, fail: bool) -> Result<usize, UserError> {
        for job in c.queue().try_next_batch::<Job>(100) {
            self.done.push(job.body.task);
        }
        if fail {
            return Err(UserError::new("the work failed").code("failed"));
        }
        Ok(self.done.len())
    }

    /// Takes every waiting job in this turn; their ids.
    #[action]
    fn take_ids(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<u64> {
        let jobs = c.queue().try_next_batch::<Job>(100);
        let ids = jobs.iter().map(|job| job.id).collect();
        self.done.extend(jobs.into_iter().map(|job| job.body.task));
        ids
    }

    #[action]
    fn done(&self) -> Vec<String> {
        self.done.clone()
    }

    #[action]
    fn waiting(&self, c: &mut ActionCtx<'_, Self>) -> usize {
        c.queue().waiting::<Job>()
    }

    #[action]
    fn answered(&self) -> u32 {
        self.answered
    }

    #[action]
    fn record_answer(&mut self) -> u32 {
        self.answered += 1;
        self.answered
    }

    /// Answers questions: each one counted in a turn, then completed with its answer.
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        while let Some(question) = c.queue().next::<Question>().await {
            // A loop that fails or panics holding a message must not take the actor down.
            match question.body.text.as_str() {
                "panic" => panic!("the run loop panics"),
                "fail" => return Err(UserError::new("the run loop fails")),
                // Holds the message until the actor sleeps and the loop is stopped.
                "hold" => std::future::pending::<()>().await,
                // Work that outlasts the idle timeout, kept awake for.
                "kept" => {
                    c.keep_awake(tokio::time::sleep(std::time::Duration::from_millis(600)))
                        .await
                }
                _ => {}
            }
            let _ = c.this().record_answer().await;
            let text = question.body.text.to_uppercase();
            c.queue().complete(&question, Answer { text });
        }
        Ok(())
    }
}

pub fn badge(role: &str) -> Badge {
    Badge { role: role.into() }
}

/// The management API's token in these tests.
pub const ADMIN_TOKEN: &str = "queue-tests-admin";

pub async fn serve(config: HostConfig) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .in_memory()
        .admin_token(ADMIN_TOKEN)
        .config(config)
        .register::<Worker>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

pub fn code_of(err: &ClientError) -> String {
    let err = err.actor_error().expect("an actor error");
    format!("{}.{}", err.group, err.code)
}
