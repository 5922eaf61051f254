-- The database and user the tests connect with; scripts/services.sh runs it as the superuser (unix socket)
-- after every start, replacing the placeholders (names between @ signs). Idempotent.
SELECT 'CREATE ROLE @DB_USER@ LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '@DB_USER@')\gexec
ALTER ROLE @DB_USER@ WITH LOGIN PASSWORD '@DB_PASSWORD@' CREATEDB;
SELECT 'CREATE DATABASE @DB_NAME@ OWNER @DB_USER@ ENCODING ''UTF8'' TEMPLATE template0' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '@DB_NAME@')\gexec
-- The stages' fence table and the tests' tables live in the public schema of the user's own database.
\connect @DB_NAME@
ALTER SCHEMA public OWNER TO @DB_USER@;
