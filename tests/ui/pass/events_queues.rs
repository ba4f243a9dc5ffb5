// Events and queues declared on the impl block; wire names; completions.
#![deny(warnings)]
use rivet_actor::prelude::*;
use rivet_actor::{Target, actor::ActionTarget};

#[derive(Serialize, Deserialize)]
struct NewMessage {
    text: String,
}

#[derive(Serialize, Deserialize)]
struct UserJoined;

#[derive(Serialize, Deserialize)]
struct JobMessage;

#[derive(Serialize, Deserialize)]
struct Question;

#[derive(Serialize, Deserialize)]
struct Answer;

#[derive(Default, Serialize, Deserialize)]
struct Chat;

#[actor(
    events(new_message = NewMessage, user_joined = UserJoined),
    queues(jobs = JobMessage, answers = Question -> Answer),
)]
impl Chat {
    #[action(name = "post")]
    fn send_message(&mut self, c: &mut ActionCtx<'_, Self>, text: String) {
        c.broadcast(NewMessage { text });
        c.broadcast(UserJoined);
    }

    #[action]
    fn read_all(&self) -> u8 {
        0
    }
}

fn main() {
    assert_eq!(ChatAction::SendMessage.name(), "post");
    assert_eq!(ChatAction::from_name("readAll"), Some(ChatAction::ReadAll));
    assert!(ChatAction::ReadAll.is_read_only());
    assert!(!ChatAction::SendMessage.is_read_only());
    assert_eq!(ChatEvent::ALL, &[ChatEvent::NewMessage, ChatEvent::UserJoined]);
    assert_eq!(ChatEvent::UserJoined.name(), "userJoined");
    assert_eq!(ChatQueue::Answers.name(), "answers");
    assert_eq!(ChatQueue::Answers.index(), 1);
    fn completion<Q: rivet_actor::Queue<Chat, Completion = C>, C>() {}
    completion::<JobMessage, ()>();
    completion::<Question, Answer>();
    assert_eq!(<Question as rivet_actor::Queue<Chat>>::TARGET, ChatQueue::Answers);
}
