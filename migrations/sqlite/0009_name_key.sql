-- A debtor's name as search compares it: lower case, accents dropped
-- ("João" is found by "joao"). Written with the name; rows from before
-- this column are filled in by the server when it starts (the folding is
-- Unicode's, which SQLite's lower() does not do).
ALTER TABLE debtors ADD COLUMN name_key TEXT;
