#!/usr/bin/env python3
"""The DuckDB baseline for `scripts/bench-replay.sh`: a simpler per-queue, per-interval
count report (arrived / answered / abandoned / exited per 15 minutes) over the same
Asterisk queue_log file, single-threaded. Prints the elapsed seconds and row count."""
import sys
import time

import duckdb

path = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
con = duckdb.connect()
con.execute(f"SET threads={threads}")
t0 = time.perf_counter()
rows = con.execute(
    """
    SELECT queue, (CAST(ts AS BIGINT) // 900) * 900 AS interval_start,
           count(*) FILTER (WHERE verb = 'ENTERQUEUE') AS arrived,
           count(*) FILTER (WHERE verb = 'CONNECT') AS answered,
           count(*) FILTER (WHERE verb = 'ABANDON') AS abandoned,
           count(*) FILTER (WHERE verb LIKE 'EXIT%') AS exited
    FROM read_csv(?, delim = '|', header = false, quote = '', escape = '',
                  null_padding = true, all_varchar = true, strict_mode = false, auto_detect = false,
                  columns = {'ts': 'VARCHAR', 'callid': 'VARCHAR', 'queue': 'VARCHAR',
                             'agent': 'VARCHAR', 'verb': 'VARCHAR', 'd1': 'VARCHAR',
                             'd2': 'VARCHAR', 'd3': 'VARCHAR', 'd4': 'VARCHAR', 'd5': 'VARCHAR'})
    WHERE queue <> 'NONE'
    GROUP BY ALL
    ORDER BY 1, 2
    """,
    [path],
).fetchall()
elapsed = time.perf_counter() - t0
print(f"{elapsed:.3f} {len(rows)}")
