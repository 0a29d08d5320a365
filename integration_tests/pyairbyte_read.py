"""Runs under PyAirbyte's own Python (see scripts/pyairbyte_venv.sh), not the connector's: reads `source-jira` (given
as a local executable) into PyAirbyte's default local DuckDB cache and prints, as one JSON object, what landed there:
the tables of the cache's schema and, per stream, its table, row count and primary-key values.

    python integration_tests/pyairbyte_read.py '{"config": {...}, "executable": ".../source-jira", "streams": [...]}'
"""

from __future__ import annotations

import json
import sys


def main(argv: list) -> int:
    import airbyte as ab
    import sqlalchemy
    from airbyte._util.name_normalizers import LowerCaseNormalizer

    request = json.loads(argv[0])
    source = ab.get_source(
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
    print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
