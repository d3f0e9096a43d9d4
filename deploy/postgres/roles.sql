-- Two roles for P06 (run once, as the PostgreSQL superuser, in the p06 database):
--   p06_migrate  owns the schema: the migration Job/service connects as it and creates the tables;
--   p06_app      what the running services use: SELECT/INSERT/UPDATE/DELETE and sequences only.
-- compose runs this file from /docker-entrypoint-initdb.d with the passwords from its environment;
-- in production, run the same statements with passwords from your secret store (deploy/README.md).
\set ON_ERROR_STOP on
SELECT set_config('p06.migrate_password', :'migrate_password', false),
       set_config('p06.app_password', :'app_password', false);
DO $$
BEGIN
  EXECUTE format('CREATE ROLE p06_migrate LOGIN PASSWORD %L', current_setting('p06.migrate_password'));
  EXECUTE format('CREATE ROLE p06_app LOGIN PASSWORD %L', current_setting('p06.app_password'));
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO p06_migrate;
GRANT USAGE ON SCHEMA public TO p06_app;
-- Tables and sequences the migrations create later get the application's rights automatically.
ALTER DEFAULT PRIVILEGES FOR ROLE p06_migrate IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO p06_app;
ALTER DEFAULT PRIVILEGES FOR ROLE p06_migrate IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO p06_app;
