-- Languages. A conversation's is the locale of its latest activity that named one
-- (a 1:1 chat's is its person's); '' until one did. A card keeps the language it
-- was created in (its creator's): the shared card is rendered in it.
ALTER TABLE conversations ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE cards ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
