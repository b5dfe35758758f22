-- Audit log entries are append-only: an UPDATE is refused always, a DELETE unless the transaction set
-- outflow.audit_retention (only audit/retention.py does). TRUNCATE, which only an operator at the database can run,
-- is not a row change and is left alone.
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('outflow.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit log entries cannot be changed or deleted'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
