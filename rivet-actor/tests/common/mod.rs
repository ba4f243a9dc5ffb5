pub mod chat_room;
pub mod server;
