-- Appended to every row's script: one machine-readable line at the end of a
-- run, so that bench/run.py never has to parse wrk's human-readable summary.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"mean_us":%.1f,"p50_us":%d,'
    .. '"p90_us":%d,"p99_us":%d,"max_us":%d,"status_errors":%d,'
    .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.status,
    e.connect, e.read, e.write, e.timeout))
  if extra_report then io.write(extra_report()) end
end
