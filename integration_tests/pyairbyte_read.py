"""Runs under PyAirbyte's own Python (see scripts/pyairbyte_venv.sh), not the connector's: reads `source-jira` (given
as a local executable) into PyAirbyte's default local DuckDB cache and prints, as one JSON object, what landed there:
the tables of the cache's schema and, per stream, its table, row count and primary-key values.

    python integration_tests/pyairbyte_read.py '{"config": {...}, "executable": ".../source-jira", "streams": [...]}'

Instead of "executable", the request may name one of PyAirbyte's other ways to run a connector without Airbyte's
registry: "pip_url" (PyAirbyte installs the connector into a venv of its own, `.venv-source-jira` under the working
directory: e.g. the path of this checkout) or "docker_image" (the connector's image, e.g. `source-jira-bulk:dev`;
never `docker_image=True`, which means Airbyte's official `airbyte/source-jira`).
"""

from __future__ import annotations

import json
import sys


def main(argv: list) -> int:
    import airbyte as ab
    import sqlalchemy
    from airbyte._util.name_normalizers import LowerCaseNormalizer

    request = json.loads(argv[0])
    installed = installed_source(ab, request)
    source = installed if installed is not None else ab.get_source(
        "source-jira",
        config=request["config"],
        local_executable=request["executable"],
        install_if_missing=False,
    )
    source.check()
    available = set(source.get_available_streams())
    streams = [name for name in request["streams"] if name in available]
    source.select_streams(streams)
    cache = ab.get_default_cache()  # DuckDB at ./.cache/default_cache/default_cache.duckdb
    result = source.read(cache=cache)

    catalog = {s.stream.name: s.stream for s in source.get_configured_catalog().streams}
    engine = cache.get_sql_engine()
    report = {
        "db_path": str(cache.db_path),
        "available": sorted(available),
        "tables": sorted(sqlalchemy.inspect(engine).get_table_names(schema=cache.schema_name)),
        "streams": {},
    }
    with engine.connect() as conn:
        for name in streams:
            table = result[name].to_sql_table()
            pk = [path[0] for path in (catalog[name].source_defined_primary_key or [])]
            columns = [LowerCaseNormalizer.normalize(key) for key in pk]
            count = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(table)).scalar_one()
            rows = conn.execute(sqlalchemy.select(*[table.c[col] for col in columns])).all() if columns else []
            report["streams"][name] = {
                "table": table.name,
                "count": count,
                "records_read": len(result[name]),
                "primary_key": pk,
                "pk_values": [[value for value in row] for row in rows],
            }
        if "issues" in streams:  # how DuckDB holds a date-time: the instant, as UTC epoch milliseconds
            table = result["issues"].to_sql_table()
            rows = conn.execute(sqlalchemy.select(table.c["id"], sqlalchemy.func.epoch_ms(table.c["updated"])).limit(50)).all()
            report["issues_updated_epoch_ms"] = {str(row[0]): int(row[1]) for row in rows}
    if installed is not None:
        report["install"] = describe_install(installed)
    print(json.dumps(report, default=str))
    return 0


def installed_source(ab, request: dict):
    """The connector from a pip URL or a Docker image (None when the request names neither)."""
    if request.get("pip_url"):
        return ab.get_source("source-jira", config=request["config"], pip_url=request["pip_url"], install_if_missing=True)
    if request.get("docker_image"):
        return ab.get_source(
            "source-jira", config=request["config"], docker_image=request["docker_image"],
            use_host_network=True,  # the fake Jira listens on the host's 127.0.0.1
        )
    return None


def describe_install(source) -> dict:
    """What PyAirbyte runs: the command line, and for a pip install its venv."""
    executor = source.executor
    described = {"executor": type(executor).__name__, "executable": [str(part) for part in getattr(executor, "executable", None) or []]}
    install_root = getattr(executor, "install_root", None)
    if install_root is not None:
        described["venv"] = str(install_root / f".venv-{source.name}")
    return described


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
