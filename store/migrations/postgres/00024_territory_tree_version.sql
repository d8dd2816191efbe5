-- +goose Up
-- Reports show names and levels of the whole territory tree (26,400
-- territories at the head of sales' scale), and loading it took most of a
-- director's request once the figures came from a snapshot. Territories change
-- rarely: this counter, bumped by every statement that writes them, in its
-- transaction, lets a server keep the tree between requests and know exactly
-- when it is out of date (store.TreeCache).
CREATE TABLE territory_tree_version (version bigint NOT NULL);
INSERT INTO territory_tree_version (version) VALUES (1);

-- +goose StatementBegin
CREATE FUNCTION fieldsync_territory_tree_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE territory_tree_version SET version = version + 1;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER territory_tree_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON territories
    FOR EACH STATEMENT EXECUTE FUNCTION fieldsync_territory_tree_changed();

-- +goose Down
DROP TRIGGER territory_tree_changed ON territories;
DROP FUNCTION fieldsync_territory_tree_changed();
DROP TABLE territory_tree_version;
