// Times a native Parquet reader under node reading the given files into memory, for
// bench/parquet_bench.cc and bench/trip_read_bench.cc (side by side with bimride::parquet):
//   duckdb: DuckDB (C++, @duckdb/node-api), one thread (`threads: '1'`);
//           CREATE TABLE t AS SELECT <columns> FROM read_parquet([files]) materialises them.
//   polars: Polars (Rust, nodejs-polars), readParquet of each file; single-threaded only when
//           run with POLARS_MAX_THREADS=1 (checked: exactly one polars-N pool thread).
// Usage: node native_bench.mjs duckdb|polars ITERATIONS COLUMNS FILE...
//   COLUMNS: comma-separated column names, or '*' for all columns.
// One untimed warm-up pass (module load, page cache, allocator), then ITERATIONS timed passes.
// Each pass is timed around the read only (node and module start-up excluded).
// Prints JSON: {"seconds": [...], "cpu_seconds": [...], "rows": N, "threads": N}
// (cpu: process user+system, every thread of the process; threads: the engine's worker
// threads).
import { readdirSync, readFileSync } from 'node:fs'

const [engine, iterArg, columnArg, ...files] = process.argv.slice(2)
const iterations = Number(iterArg)
const columns = columnArg === '*' ? null : columnArg.split(',')
if (!(iterations >= 1) || files.length === 0 || !['duckdb', 'polars'].includes(engine)) {
  console.error('usage: node native_bench.mjs duckdb|polars ITERATIONS COLUMNS FILE...')
  process.exit(2)
}

// Names of this process's threads (Polars names its pool threads polars-0, polars-1, ...).
const threadNames = () =>
  readdirSync('/proc/self/task').map(t => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim())

async function duckdbReader() {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' })
  const con = await instance.connect()
  const setting = await con.runAndReadAll("SELECT current_setting('threads')")
  const threads = Number(setting.getRows()[0][0])
  const quote = s => `'${s.replaceAll("'", "''")}'`
  const select = columns ? columns.map(c => `"${c.replaceAll('"', '""')}"`).join(', ') : '*'
  const sql = `CREATE OR REPLACE TABLE t AS SELECT ${select} FROM read_parquet([${files.map(quote).join(', ')}])`
  return {
    threads,
    async read() {
      await con.run(sql)
      const r = await con.runAndReadAll('SELECT count(*) FROM t')
      return Number(r.getRows()[0][0])
    },
    async release() { await con.run('DROP TABLE t') },
  }
}

async function polarsReader() {
  const pl = (await import('nodejs-polars')).default
  let frames = []
  return {
    get threads() { return threadNames().filter(n => /^polars-\d+$/.test(n)).length },
    async read() {
      frames = files.map(f => pl.readParquet(f, columns ? { columns } : {}))
      return frames.reduce((rows, df) => rows + df.height, 0)
    },
    async release() { frames = [] },
  }
}

const reader = engine === 'duckdb' ? await duckdbReader() : await polarsReader()
let rows = await reader.read()  // warm-up
await reader.release()
if (reader.threads !== 1) {
  throw new Error(`${engine} runs ${reader.threads} worker threads, want 1` +
                  (engine === 'polars' ? ' (set POLARS_MAX_THREADS=1)' : ''))
}
const seconds = []
const cpuSeconds = []
for (let it = 0; it < iterations; ++it) {
  const start = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  rows = await reader.read()
  const cpu = process.cpuUsage(cpuStart)
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9)
  cpuSeconds.push((cpu.user + cpu.system) / 1e6)
  await reader.release()
}
console.log(JSON.stringify({ seconds, cpu_seconds: cpuSeconds, rows, threads: reader.threads }))
