// Times hyparquet reading Parquet files, all columns decoded (columnar onChunk API, no row
// assembly), for bench/parquet_bench.cc. Each iteration reads every file from disk and decodes.
// Usage: node parquet_bench.mjs ITERATIONS FILE...
// Prints JSON: {"seconds": [...], "cpu_seconds": [...], "rows": N} (cpu: process user+system,
// which counts node's helper threads too).
import { readFileSync } from 'node:fs'
import { parquetRead, parquetMetadata } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const iterations = Number(process.argv[2])
const files = process.argv.slice(3)
const seconds = []
const cpuSeconds = []
let rows = 0
for (let it = 0; it < iterations; ++it) {
  const start = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  rows = 0
  for (const path of files) {
    const buf = readFileSync(path)
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
    const metadata = parquetMetadata(file)
    let values = 0
    await parquetRead({
      file, metadata, compressors,
      onChunk: chunk => { values += chunk.columnData.length },
    })
    rows += Number(metadata.num_rows)
    if (values !== Number(metadata.num_rows) * (metadata.schema.length - 1)) {
      throw new Error(`${path}: decoded ${values} values`)
    }
  }
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9)
  const cpu = process.cpuUsage(cpuStart)
  cpuSeconds.push((cpu.user + cpu.system) / 1e6)
}
console.log(JSON.stringify({ seconds, cpu_seconds: cpuSeconds, rows }))
