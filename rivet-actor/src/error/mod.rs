//! Errors: what a user returns ([`UserError`]), what a client sees ([`ActorError`]) and
//! the carrier between them ([`Error`]), which masks anything that is not meant for a client.
//!
//! Every `group.code` the runtime raises has exactly one constructor, in `codes.rs`.

mod actor;
mod client;
mod codes;
mod internal;
mod user;

pub use actor::ActorError;
pub use client::ClientError;
pub use internal::Error;
pub use user::UserError;

/// Groups whose errors reach a client as they are. Any other group is masked as
/// `rivetkit.internal_error`.
const PUBLIC_GROUPS: &[&str] = &["user", "auth", "actor", "message", "queue", "schedule"];

/// The message a client sees instead of an internal error's text.
pub const INTERNAL_ERROR_MESSAGE: &str = "An internal error occurred";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_error_stays_public_through_question_mark() {
        fn inner() -> Result<(), Error> {
            Err(UserError::new("nope").code("nope_code"))?;
            Ok(())
        }
        let client = inner().unwrap_err().to_client();
        assert_eq!(client.group, "user");
        assert_eq!(client.code, "nope_code");
        assert_eq!(client.message, "nope");
    }

    #[test]
    fn internal_text_is_masked() {
        let err: Error = std::io::Error::other("secret-internal-detail").into();
        let client = err.to_client();
        assert!(client.is_internal());
        assert!(!format!("{client:?}").contains("secret"));
        assert!(format!("{err}").contains("secret-internal-detail"));
    }

    #[test]
    fn another_actors_answer_passes_through_and_transport_failures_are_masked() {
        let answered: Error = ClientError::Actor(UserError::new("no").code("nope").into()).into();
        assert_eq!(answered.to_client().code, "nope");
        let lost: Error = ClientError::Transport("secret socket detail".into()).into();
        assert!(lost.to_client().is_internal());
    }

    #[test]
    fn non_public_actor_error_is_masked() {
        let err: Error = ActorError::new("driver", "boom", "secret").into();
        assert!(err.to_client().is_internal());
    }
}
