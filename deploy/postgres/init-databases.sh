#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data volume (/docker-entrypoint-initdb.d).
# Creates two databases with two owners that cannot reach each other's data:
#   - Airflow's metadata database (also the Celery result backend), owned by AIRFLOW_DB_USER;
#   - the TKPK warehouse, owned by TKPK_WAREHOUSE_DB_USER (airflow-init creates its tables: `tkpk db upgrade`).
# Names and passwords come from the environment (.env); psql's :"name" / :'value' quoting keeps them out of
# the SQL text, so a password with quotes in it cannot break (or inject into) the statements.
set -euo pipefail

run_sql() {  # run_sql DATABASE  (SQL on stdin)
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$1" \
    -v airflow_user="$AIRFLOW_DB_USER" -v airflow_password="$AIRFLOW_DB_PASSWORD" -v airflow_db="$AIRFLOW_DB_NAME" \
    -v wh_user="$TKPK_WAREHOUSE_DB_USER" -v wh_password="$TKPK_WAREHOUSE_DB_PASSWORD" \
    -v wh_db="$TKPK_WAREHOUSE_DB_NAME"
}

run_sql postgres <<'SQL'
CREATE ROLE :"airflow_user" LOGIN PASSWORD :'airflow_password';
CREATE ROLE :"wh_user" LOGIN PASSWORD :'wh_password';
CREATE DATABASE :"airflow_db" OWNER :"airflow_user";
CREATE DATABASE :"wh_db" OWNER :"wh_user";
-- Only the owner (and the superuser) may connect: Airflow cannot read the warehouse, and the warehouse user
-- cannot read Airflow's connections and variables.
REVOKE ALL ON DATABASE :"airflow_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"wh_db" FROM PUBLIC;
SQL

# Since PostgreSQL 15 PUBLIC may not create in schema public: each owner gets its database's schema.
run_sql "$AIRFLOW_DB_NAME" <<'SQL'
ALTER SCHEMA public OWNER TO :"airflow_user";
SQL
run_sql "$TKPK_WAREHOUSE_DB_NAME" <<'SQL'
ALTER SCHEMA public OWNER TO :"wh_user";
SQL
