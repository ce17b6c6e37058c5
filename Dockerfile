# The TKPK Kota Jambi Airflow image: the official Apache Airflow image (same Airflow and Python as
# requirements.lock), the pinned runtime dependencies and this project. Built by `docker compose build`.
FROM apache/airflow:3.3.2-python3.11
# The official image already carries the FAB provider (its default extras), which docker-compose.yaml uses as the
# auth manager for named accounts; the embedded default runs the simple auth manager and does not need it.

# Official-image convention: install Python packages as the airflow user, never as root.
USER airflow
WORKDIR /opt/airflow

# Runtime requirements only: the runtime section of requirements.in (every line above "# ==== bench / dev"; the
# bench/dev section holds Splink, DuckDB and the test tools), held to the exact versions of requirements.lock as
# constraints, with apache-airflow pinned so pip can never move the image's Airflow. bench/ is not copied.
COPY --chown=airflow:0 requirements.in requirements.lock /opt/tkpk/
RUN sed '/^# ==== bench \/ dev/,$d' /opt/tkpk/requirements.in > /opt/tkpk/requirements-runtime.in \
 && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
      -r /opt/tkpk/requirements-runtime.in -c /opt/tkpk/requirements.lock

# The project itself (the `tkpk` package, its Airflow glue and the `tkpk` CLI); dependencies are already there.
COPY --chown=airflow:0 pyproject.toml README.md /opt/tkpk/src/
COPY --chown=airflow:0 plugins /opt/tkpk/src/plugins
RUN pip install --no-cache-dir --no-deps /opt/tkpk/src

# DAGs, plugins, configuration, SQL, templates and expectation suites; docker-compose.yaml mounts the working
# tree over these for development, a production deployment runs the image as built.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 include /opt/airflow/include
COPY --chown=airflow:0 expectations /opt/airflow/expectations

# plugins/tkpk/settings.py finds include/ and expectations/ under TKPK_HOME.
ENV TKPK_HOME=/opt/airflow \
    TKPK_VAR_DIR=/opt/airflow/var \
    PYTHONPATH=/opt/airflow/plugins
