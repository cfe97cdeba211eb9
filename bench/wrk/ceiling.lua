-- GET /bench/ceiling: no database, no access-log line; the server's floor cost.
wrk.method = "GET"
