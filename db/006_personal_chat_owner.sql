-- A 1:1 chat's cards are rendered for its one person: find the person by the chat.
CREATE INDEX personal_chats_by_conversation ON personal_chats(conversation_id);
