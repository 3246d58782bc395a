-- See 014_rosters_per_chat_or_channel.sql: rosters kept once per chat or channel, with no foreign key.
ALTER TABLE conversation_members DROP CONSTRAINT IF EXISTS conversation_members_conversation_id_fkey;

CREATE TABLE conversation_members_folded AS
SELECT split_part(conversation_id, ';', 1) AS conversation_id, user_id, MAX(name) AS name,
       MAX(aad_object_id) AS aad_object_id
FROM conversation_members
GROUP BY split_part(conversation_id, ';', 1), user_id;

DELETE FROM conversation_members;

INSERT INTO conversation_members (conversation_id, user_id, name, aad_object_id)
SELECT conversation_id, user_id, name, aad_object_id FROM conversation_members_folded;

DROP TABLE conversation_members_folded;
