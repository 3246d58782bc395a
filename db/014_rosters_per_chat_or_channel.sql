-- A conversation's members were kept per conversation, and in a channel every reply chain is one:
-- each channel poll read and kept the whole team again, and the copies stayed after the polls were
-- gone. They are now kept once per chat or channel, under the thread's root (`id` up to its first
-- ';'), which need not be a stored conversation: no foreign key, and the bot deletes a roster when
-- it leaves (ConversationStore.erase). A channel's copies fold into one (a person's name in
-- them differs only if they were renamed between two reads; one is kept).
CREATE TABLE conversation_members_new (
    conversation_id TEXT NOT NULL,  -- the chat's or the channel's id (people.roster_key)
    user_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    aad_object_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, user_id)
);

INSERT INTO conversation_members_new (conversation_id, user_id, name, aad_object_id)
SELECT substr(conversation_id, 1, instr(conversation_id || ';', ';') - 1), user_id, MAX(name), MAX(aad_object_id)
FROM conversation_members
GROUP BY substr(conversation_id, 1, instr(conversation_id || ';', ';') - 1), user_id;

DROP TABLE conversation_members;

ALTER TABLE conversation_members_new RENAME TO conversation_members;
