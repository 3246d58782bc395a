-- Personal views (Universal Actions).
-- A 1:1 chat's cards are rendered for its one person: find the person by the chat.
CREATE INDEX personal_chats_by_conversation ON personal_chats(conversation_id);
-- Every card lists the latest voters for Teams to refresh it for: read them newest first.
CREATE INDEX votes_by_time ON votes(poll_id, voted_at);
