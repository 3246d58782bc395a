-- "Who voted" reads the first voters of each option: one index range per option.
CREATE INDEX votes_by_option_time ON votes(poll_id, position, voted_at, user_id);
