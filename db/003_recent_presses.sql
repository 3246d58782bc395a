-- The last time each user pressed each button, to ignore double clicks.
CREATE TABLE recent_presses (
    user_id    TEXT NOT NULL,
    press      TEXT NOT NULL,
    pressed_at REAL NOT NULL,
    PRIMARY KEY (user_id, press)
);
CREATE INDEX recent_presses_by_time ON recent_presses(pressed_at);
CREATE INDEX processed_activities_by_time ON processed_activities(received_at);
