// Dumps every cell of a Parquet file as canonical text, read by hyparquet (an independent
// reader), for the cross-check in src/parquet/hyparquet_crosscheck_test.cc.
// Usage: node parquet_dump.mjs FILE.parquet
// Output: a header line of column names, then one line per row; cells tab-separated, in the
// format of src/parquet/cell_text.h (null, true/false, integers as raw counts, floats as JS
// shortest text with "-0", bytes/strings as lowercase hex).
import { parquetRead, parquetMetadataAsync, asyncBufferFromFile } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const path = process.argv[2]
if (!path) {
  console.error('usage: node parquet_dump.mjs FILE.parquet')
  process.exit(2)
}
const file = await asyncBufferFromFile(path)
const metadata = await parquetMetadataAsync(file)
const names = metadata.schema.slice(1).map(s => s.name)
// Keep timestamps and dates as raw integers instead of Date objects (which lose precision).
const parsers = {
  timestampFromMilliseconds: v => BigInt(v),
  timestampFromMicroseconds: v => BigInt(v),
  timestampFromNanoseconds: v => BigInt(v),
  dateFromDays: v => v,
}

function cell(v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('hex')
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  return 'UNEXPECTED:' + Object.prototype.toString.call(v)
}

const out = [names.join('\t')]
await parquetRead({
  file,
  metadata,
  compressors,
  parsers,
  onComplete: rows => {
    for (const row of rows) out.push(row.map(cell).join('\t'))
  },
})
out.push('')
// Write in chunks; one huge string can exceed pipe-friendly sizes.
const text = out.join('\n')
for (let i = 0; i < text.length; i += 1 << 20) process.stdout.write(text.slice(i, i + (1 << 20)))
