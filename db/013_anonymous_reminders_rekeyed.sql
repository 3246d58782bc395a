-- Until now an anonymous poll's reminders were kept under the same keyed hash as the person's
-- votes, while the reminder message itself is kept in that person's 1:1 chat: the two joined into
-- who voted for what. Reminders are now kept under a hash of another kind
-- (signing.Pseudonyms.reminded), and the old rows go; someone reminded before may be reminded
-- once more.
DELETE FROM poll_reminders WHERE poll_id IN (SELECT id FROM polls WHERE anonymous = 1);
