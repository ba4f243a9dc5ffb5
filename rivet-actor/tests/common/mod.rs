pub mod chat_room;
