// Writes a matrix of Parquet files with an independent writer (arrow-rs's Parquet writer,
// compiled to WebAssembly: the npm package parquet-wasm) for src/parquet/independent_writer_test.cc.
//
// Usage: node parquet_matrix.mjs OUT_DIR
//        node parquet_matrix.mjs --seeds OUT_DIR   (a few tiny files: fuzz seeds, tests/data/)
//
// OUT_DIR gets, for every codec (UNCOMPRESSED, SNAPPY, GZIP, ZSTD; see CODECS for the page sizes
// each goes with) x writer version (1.0: data pages v1, 2.0: data pages v2) x encoding mode (see
// MODES), one file "<codec>_<v>_<mode>.parquet" (40 files) holding the same 2500-row table:
// every physical type, optional columns with nulls (runs of nulls, pages of nulls, columns of only
// nulls) and required columns, strings, binaries, fixed-length bytes, decimals, timestamps in
// ms/us/ns, dates, times; three row groups of one-value, small or large pages. Plus a file with
// zero rows, and files the reader must refuse (struct and list columns; LZ4_RAW, LZ4, BROTLI).
//
// OUT_DIR/manifest.json says what each file is and what it must hold:
//   { writer, datasets: { NAME: { rows, columns: [{ name, physical, logical, unit, utc, optional,
//       type_length, int_bits, int_signed, precision, scale, values: [cell...] }] } },
//     files: [{ file, dataset, codec, version, mode, row_group_rows, pages: tiny|small|large,
//               encodings: { column: [allowed data page encodings] },
//               dictionary_columns: [columns whose every chunk is one dictionary page + dictionary-
//               encoded data pages], no_dictionary: no dictionary pages at all,
//               fallback: some chunk has dictionary-encoded and other data pages }],
//     refused: [{ file, column, what }] }
// A cell is the canonical text of the value the writer was GIVEN (never read back):
//   null | "true"/"false" | integers in decimal (unsigned INTEGER annotations unsigned; dates in
//   days, times/timestamps as the raw count in the column's unit, decimals as the unscaled
//   integer when stored as INT32/INT64) | FLOAT "f32:" + 8 hex digits of the bits | DOUBLE "f64:" +
//   16 hex digits of the bits | BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY lowercase hex of the bytes.
import fs from 'node:fs'
import path from 'node:path'
import * as A from 'apache-arrow'
import * as P from 'parquet-wasm'

const seeds = process.argv[2] === '--seeds'
const out = process.argv[seeds ? 3 : 2]
if (!out) {
  console.error('usage: node parquet_matrix.mjs [--seeds] OUT_DIR')
  process.exit(2)
}
fs.mkdirSync(out, { recursive: true })

// ---- deterministic random numbers (mulberry32) ----
function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  next.int = n => Math.floor(next() * n)  // 0..n-1
  next.u32 = () => Math.floor(next() * 4294967296) >>> 0
  next.u64 = () => (BigInt(next.u32()) << 32n) | BigInt(next.u32())
  next.i64 = () => BigInt.asIntN(64, next.u64())
  next.bytes = n => Uint8Array.from({ length: n }, () => next.int(256))
  return next
}

const enc = new TextEncoder()
const hex = bytes => Buffer.from(bytes).toString('hex')
const INT32_MIN = -2147483648
const INT32_MAX = 2147483647
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

// ---- column kinds: how values become Arrow buffers and canonical cells ----
// Each kind: build(values, n, nullBits, nullCount) -> Arrow Data; cell(v) -> text.
function validityBits(values) {
  const bits = new Uint8Array((values.length + 7) >> 3)
  let nulls = 0
  values.forEach((v, i) => {
    if (v === null) nulls++
    else bits[i >> 3] |= 1 << (i & 7)
  })
  return { bits, nulls }
}

const fixedKind = (ArrayType, fill, cell) => ({
  build(type, values) {
    const { bits, nulls } = validityBits(values)
    // Null slots hold junk: the writer must ignore them.
    const data = ArrayType.from(values, v => (v === null ? fill : v))
    return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null, data })
  },
  cell,
})

const KINDS = {
  bool: {
    build(type, values) {
      const { bits, nulls } = validityBits(values)
      const data = new Uint8Array((values.length + 7) >> 3)
      values.forEach((v, i) => { if (v) data[i >> 3] |= 1 << (i & 7) })
      return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null, data })
    },
    cell: v => (v ? 'true' : 'false'),
  },
  i8: fixedKind(Int8Array, 0x55, v => String(v)),
  i16: fixedKind(Int16Array, 0x5555, v => String(v)),
  i32: fixedKind(Int32Array, 0x55555555, v => String(v)),
  u8: fixedKind(Uint8Array, 0x55, v => String(v)),
  u16: fixedKind(Uint16Array, 0x5555, v => String(v)),
  u32: fixedKind(Uint32Array, 0x55555555, v => String(v)),
  i64: fixedKind(BigInt64Array, 0x5555555555555555n, v => v.toString()),
  u64: fixedKind(BigUint64Array, 0x5555555555555555n, v => v.toString()),
  // Floats are given as their bit patterns (uint32 / uint64) so NaN payloads and -0 survive.
  f32: {
    build(type, values) {
      const { bits, nulls } = validityBits(values)
      const raw = Uint32Array.from(values, v => (v === null ? 0x7fc00055 : v))
      return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null,
        data: new Float32Array(raw.buffer) })
    },
    cell: v => 'f32:' + v.toString(16).padStart(8, '0'),
  },
  f64: {
    build(type, values) {
      const { bits, nulls } = validityBits(values)
      const raw = BigUint64Array.from(values, v => (v === null ? 0x7ff8000000000055n : v))
      return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null,
        data: new Float64Array(raw.buffer) })
    },
    cell: v => 'f64:' + v.toString(16).padStart(16, '0'),
  },
  // Variable-length bytes (Utf8/Binary with int32 offsets, LargeUtf8/LargeBinary with int64).
  bytes: {
    build(type, values) {
      const { bits, nulls } = validityBits(values)
      const large = type instanceof A.LargeUtf8 || type instanceof A.LargeBinary
      const offsets = large ? new BigInt64Array(values.length + 1) : new Int32Array(values.length + 1)
      let total = 0
      values.forEach((v, i) => {
        total += v === null ? 0 : v.length
        offsets[i + 1] = large ? BigInt(total) : total
      })
      const data = new Uint8Array(total)
      let pos = 0
      for (const v of values) if (v !== null) { data.set(v, pos); pos += v.length }
      return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null,
        valueOffsets: offsets, data })
    },
    cell: v => hex(v),
  },
  fixed: {
    build(type, values) {
      const { bits, nulls } = validityBits(values)
      const w = type.byteWidth
      const data = new Uint8Array(values.length * w).fill(0x55)
      values.forEach((v, i) => { if (v !== null) data.set(v, i * w) })
      return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null, data })
    },
    cell: v => hex(v),
  },
}

// Arrow dictionary arrays (values: Uint8Array strings from a small set, or null): arrow-rs
// writes these from the Arrow dictionary, a different path from plain Utf8.
const dictionaryKind = {
  build(type, values) {
    const { bits, nulls } = validityBits(values)
    const words = [], index = new Map()
    const keys = Int32Array.from(values, v => {
      if (v === null) return 0
      const k = hex(v)
      if (!index.has(k)) { index.set(k, words.length); words.push(v) }
      return index.get(k)
    })
    const dictionary = A.makeVector(KINDS.bytes.build(type.dictionary, words))
    return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null,
      data: keys, dictionary })
  },
  cell: v => hex(v),
}

// Float16 values are their uint16 bit patterns; Parquet stores them as 2 little-endian bytes.
const float16Kind = {
  build(type, values) {
    const { bits, nulls } = validityBits(values)
    return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null,
      data: Uint16Array.from(values, v => (v === null ? 0x7e55 : v)) })
  },
  cell: v => hex([v & 0xff, v >> 8]),
}

// Decimal128 values are unscaled BigInts. Stored as INT32/INT64 (precision <= 18) the cell is the
// integer; as FIXED_LEN_BYTE_ARRAY it is the big-endian two's complement in `len` bytes
// (LogicalTypes.md: DECIMAL).
function decimalKind(storedAs, len) {
  return {
    build(type, values) {
      const { bits, nulls } = validityBits(values)
      const data = new Uint32Array(values.length * 4)
      values.forEach((v, i) => {
        let u = BigInt.asUintN(128, v === null ? 0x55n : v)
        for (let k = 0; k < 4; k++) { data[i * 4 + k] = Number(u & 0xffffffffn); u >>= 32n }
      })
      return A.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bits : null, data })
    },
    cell: v => {
      if (storedAs !== 'FIXED_LEN_BYTE_ARRAY') return v.toString()
      let u = BigInt.asUintN(len * 8, v)
      const b = new Uint8Array(len)
      for (let k = len - 1; k >= 0; k--) { b[k] = Number(u & 0xffn); u >>= 8n }
      return hex(b)
    },
  }
}

// Bytes needed for a decimal of `precision` digits as two's complement (LogicalTypes.md).
const decimalBytes = precision => {
  let len = 1
  while (2n ** BigInt(8 * len - 1) <= 10n ** BigInt(precision)) len++
  return len
}

// ---- the table ----
// role: how the encoding modes treat the column: bool | int (INT32/INT64) | float | bytes |
// fixed | none (written however the writer likes: Null-typed columns).
// Every spec: name, type, optional, kind, role, expect (schema the reader must report), gen(i, r).
function columnSpecs() {
  const cities = ['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island', 'EWR', '', 'Zürich', '東京']
  const f32Specials = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00001,
    0xffc12345, 0x00000001, 0x807fffff, 0x7f7fffff, 0x3f800000, 0x3dcccccd]
  const f64Specials = [0n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n,
    0x7ff8000000000000n, 0x7ff4000000000001n, 0xfff8deadbeef0001n, 1n, 0x800fffffffffffffn,
    0x7fefffffffffffffn, 0x3ff0000000000000n, 0x3fb999999999999an]
  const f32 = r => new Uint32Array(new Float32Array([(r() - 0.5) * 10 ** r.int(12)]).buffer)[0]
  const f64 = r => new BigUint64Array(new Float64Array([(r() - 0.5) * 10 ** r.int(30)]).buffer)[0]
  const nullable = (p, g) => (i, r) => (r() < p ? null : g(i, r))
  const dec = (type, p, s) => ({ expectType: type, p, s })
  const specs = [
    { name: 'bool_req', type: new A.Bool(), optional: false, kind: 'bool', role: 'bool',
      expect: { physical: 'BOOLEAN' },
      gen: (i, r) => (i % 100 < 40 ? i % 3 === 0 : r() < 0.5) },
    { name: 'bool_opt', type: new A.Bool(), optional: true, kind: 'bool', role: 'bool',
      expect: { physical: 'BOOLEAN' }, gen: nullable(0.3, (i, r) => r() < 0.7) },
    { name: 'i8_opt', type: new A.Int8(), optional: true, kind: 'i8', role: 'int',
      expect: { physical: 'INT32', logical: 'INT', int_bits: 8, int_signed: true },
      gen: nullable(0.1, (i, r) => [-128, 127, 0, -1][i % 4] ?? 0) },
    { name: 'i16_req', type: new A.Int16(), optional: false, kind: 'i16', role: 'int',
      expect: { physical: 'INT32', logical: 'INT', int_bits: 16, int_signed: true },
      gen: (i, r) => r.int(65536) - 32768 },
    { name: 'i32_req', type: new A.Int32(), optional: false, kind: 'i32', role: 'int',
      expect: { physical: 'INT32' },
      // Extremes (deltas that overflow 32 bits), a slow ramp, runs of one value.
      gen: (i, r) => (i % 17 === 0 ? [INT32_MIN, INT32_MAX, 0, -1][r.int(4)]
        : i % 100 < 30 ? 1000 + Math.floor(i / 10) : i % 100 < 50 ? 7 : r.int(2000) - 1000) },
    { name: 'i32_opt', type: new A.Int32(), optional: true, kind: 'i32', role: 'int',
      expect: { physical: 'INT32' },
      // Rows 300..799 are all null: whole pages of nulls.
      gen: (i, r) => (i >= 300 && i < 800 ? null : r() < 0.2 ? null : (r.u32() | 0)) },
    { name: 'u8_req', type: new A.Uint8(), optional: false, kind: 'u8', role: 'int',
      expect: { physical: 'INT32', logical: 'INT', int_bits: 8, int_signed: false },
      gen: (i, r) => r.int(256) },
    { name: 'u16_opt', type: new A.Uint16(), optional: true, kind: 'u16', role: 'int',
      expect: { physical: 'INT32', logical: 'INT', int_bits: 16, int_signed: false },
      gen: nullable(0.05, (i, r) => (i % 9 === 0 ? 65535 : r.int(65536))) },
    { name: 'u32_opt', type: new A.Uint32(), optional: true, kind: 'u32', role: 'int',
      expect: { physical: 'INT32', logical: 'INT', int_bits: 32, int_signed: false },
      gen: nullable(0.1, (i, r) => (i % 5 === 0 ? 4294967295 : 2147483648 + r.int(1000))) },
    { name: 'i64_req', type: new A.Int64(), optional: false, kind: 'i64', role: 'int',
      expect: { physical: 'INT64' },
      gen: (i, r) => (i % 23 === 0 ? [INT64_MIN, INT64_MAX, 0n, -1n][r.int(4)]
        : 1000000000000n + BigInt(i) * 7n) },
    { name: 'i64_opt', type: new A.Int64(), optional: true, kind: 'i64', role: 'int',
      expect: { physical: 'INT64' }, gen: nullable(0.15, (i, r) => r.i64()) },
    { name: 'i64_allnull', type: new A.Int64(), optional: true, kind: 'i64', role: 'int',
      expect: { physical: 'INT64' }, gen: () => null },
    { name: 'u64_req', type: new A.Uint64(), optional: false, kind: 'u64', role: 'int',
      expect: { physical: 'INT64', logical: 'INT', int_bits: 64, int_signed: false },
      gen: (i, r) => (i % 7 === 0 ? 2n ** 64n - 1n : (2n ** 63n) + BigInt(r.u32())) },
    { name: 'f32_req', type: new A.Float32(), optional: false, kind: 'f32', role: 'float',
      expect: { physical: 'FLOAT' },
      gen: (i, r) => (i % 5 === 0 ? f32Specials[r.int(f32Specials.length)] : f32(r)) },
    { name: 'f32_opt', type: new A.Float32(), optional: true, kind: 'f32', role: 'float',
      expect: { physical: 'FLOAT' },
      gen: nullable(0.25, (i, r) => (i % 3 === 0 ? f32Specials[r.int(4)] : f32(r))) },
    { name: 'f64_req', type: new A.Float64(), optional: false, kind: 'f64', role: 'float',
      expect: { physical: 'DOUBLE' },
      gen: (i, r) => (i % 5 === 0 ? f64Specials[r.int(f64Specials.length)] : f64(r)) },
    { name: 'f64_opt', type: new A.Float64(), optional: true, kind: 'f64', role: 'float',
      expect: { physical: 'DOUBLE' },
      gen: nullable(0.2, (i, r) => (i % 40 < 20 ? 0x4004000000000000n : f64(r))) },
    { name: 'str_req', type: new A.Utf8(), optional: false, kind: 'bytes', role: 'bytes',
      expect: { physical: 'BYTE_ARRAY', logical: 'STRING' },
      // Unique strings, empties, and now and then one longer than a page.
      gen: (i, r) => enc.encode(i % 13 === 0 ? '' : i % 101 === 0 ? 'ß'.repeat(1200 + r.int(500))
        : `trip-${r.u32()}-${cities[r.int(cities.length)]}`) },
    { name: 'str_opt', type: new A.Utf8(), optional: true, kind: 'bytes', role: 'bytes',
      expect: { physical: 'BYTE_ARRAY', logical: 'STRING' },
      gen: nullable(0.3, (i, r) => enc.encode(cities[r.int(cities.length)])) },
    { name: 'str_sorted', type: new A.Utf8(), optional: false, kind: 'bytes', role: 'bytes',
      expect: { physical: 'BYTE_ARRAY', logical: 'STRING' },
      // Shared prefixes of varying length: what DELTA_BYTE_ARRAY is for.
      gen: i => enc.encode(`zone/${cities[Math.floor(i / 300) % cities.length]}/` +
        `${String(Math.floor(i / 3)).padStart(6, '0')}${i % 3 ? '/x' : ''}`) },
    { name: 'str_const', type: new A.Utf8(), optional: false, kind: 'bytes', role: 'bytes',
      // One distinct value: dictionary indices of bit width 0.
      expect: { physical: 'BYTE_ARRAY', logical: 'STRING' }, gen: () => enc.encode('Queens') },
    { name: 'i32_const_opt', type: new A.Int32(), optional: true, kind: 'i32', role: 'int',
      expect: { physical: 'INT32' }, gen: nullable(0.05, () => -7) },
    { name: 'str_sparse', type: new A.Utf8(), optional: true, kind: 'bytes', role: 'bytes',
      expect: { physical: 'BYTE_ARRAY', logical: 'STRING' },
      gen: (i, r) => (i % 97 === 5 ? enc.encode(`rare-${i}`) : null) },
    { name: 'large_str_opt', type: new A.LargeUtf8(), optional: true, kind: 'bytes', role: 'bytes',
      expect: { physical: 'BYTE_ARRAY', logical: 'STRING' },
      gen: nullable(0.1, (i, r) => enc.encode(`L${i % 50}`)) },
    { name: 'bin_opt', type: new A.Binary(), optional: true, kind: 'bytes', role: 'bytes',
      expect: { physical: 'BYTE_ARRAY' }, gen: nullable(0.2, (i, r) => r.bytes(r.int(21))) },
    { name: 'dict_str_opt', type: new A.Dictionary(new A.Utf8(), new A.Int32()), optional: true,
      kind: dictionaryKind, role: 'bytes', expect: { physical: 'BYTE_ARRAY', logical: 'STRING' },
      gen: nullable(0.15, (i, r) => enc.encode(cities[r.int(4)])) },
    { name: 'f16_opt', type: new A.Float16(), optional: true, kind: float16Kind, role: 'fixed',
      expect: { physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'OTHER', type_length: 2 },
      gen: nullable(0.1, (i, r) => [0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x0001][i % 7] ?? 0) },
    { name: 'fixed7_opt', type: new A.FixedSizeBinary(7), optional: true, kind: 'fixed', role: 'fixed',
      expect: { physical: 'FIXED_LEN_BYTE_ARRAY', type_length: 7 },
      gen: nullable(0.2, (i, r) => (i % 4 === 0 ? new Uint8Array(7) : r.bytes(7))) },
    { name: 'fixed16_req', type: new A.FixedSizeBinary(16), optional: false, kind: 'fixed', role: 'fixed',
      expect: { physical: 'FIXED_LEN_BYTE_ARRAY', type_length: 16 }, gen: (i, r) => r.bytes(16) },
    { name: 'ts_ms', type: new A.TimestampMillisecond(), optional: false, kind: 'i64', role: 'int',
      expect: { physical: 'INT64', logical: 'TIMESTAMP', unit: 'MILLIS', utc: false },
      gen: (i, r) => 1672531200000n + BigInt(i) * 61001n - (i % 50 === 0 ? 2000000000000n : 0n) },
    { name: 'ts_us_utc', type: new A.TimestampMicrosecond('UTC'), optional: true, kind: 'i64', role: 'int',
      expect: { physical: 'INT64', logical: 'TIMESTAMP', unit: 'MICROS', utc: true },
      gen: nullable(0.1, (i, r) => 1672531200000000n + BigInt(r.u32()) * 1000n + BigInt(r.int(1000))) },
    { name: 'ts_ns', type: new A.TimestampNanosecond(), optional: true, kind: 'i64', role: 'int',
      expect: { physical: 'INT64', logical: 'TIMESTAMP', unit: 'NANOS', utc: false },
      gen: nullable(0.1, (i, r) => 1672531200000000000n + BigInt(i) * 1000000007n + BigInt(r.int(1000))) },
    { name: 'ts_ns_utc', type: new A.TimestampNanosecond('UTC'), optional: false, kind: 'i64', role: 'int',
      expect: { physical: 'INT64', logical: 'TIMESTAMP', unit: 'NANOS', utc: true },
      gen: (i, r) => -86400000000000n * BigInt(r.int(30000)) + BigInt(r.u32()) },
    { name: 'date_req', type: new A.DateDay(), optional: false, kind: 'i32', role: 'int',
      expect: { physical: 'INT32', logical: 'DATE' }, gen: i => 19358 + Math.floor(i / 100) },
    { name: 'date_opt', type: new A.DateDay(), optional: true, kind: 'i32', role: 'int',
      expect: { physical: 'INT32', logical: 'DATE' },
      gen: nullable(0.2, (i, r) => r.int(200000) - 100000) },
    { name: 'time_ms', type: new A.TimeMillisecond(), optional: true, kind: 'i32', role: 'int',
      expect: { physical: 'INT32', logical: 'TIME', unit: 'MILLIS' },
      gen: nullable(0.1, (i, r) => r.int(86400000)) },
    { name: 'time_us', type: new A.TimeMicrosecond(), optional: false, kind: 'i64', role: 'int',
      expect: { physical: 'INT64', logical: 'TIME', unit: 'MICROS' },
      gen: (i, r) => BigInt(r.int(86400)) * 1000000n + BigInt(r.int(1000000)) },
    { name: 'time_ns', type: new A.TimeNanosecond(), optional: true, kind: 'i64', role: 'int',
      expect: { physical: 'INT64', logical: 'TIME', unit: 'NANOS' },
      gen: nullable(0.1, (i, r) => BigInt(r.int(86400)) * 1000000000n + BigInt(r.int(1000000000))) },
  ]
  // Decimals: stored as INT32, INT64 or FIXED_LEN_BYTE_ARRAY by precision.
  for (const [name, p, s, optional] of [['dec9_opt', 9, 2, true], ['dec18_req', 18, 3, false],
    ['dec20_opt', 20, 2, true], ['dec38_req', 38, 4, false]]) {
    const storedAs = p <= 9 ? 'INT32' : p <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY'
    const len = decimalBytes(p)
    const max = 10n ** BigInt(p) - 1n
    specs.push({
      name, type: new A.Decimal(s, p, 128), optional, kind: decimalKind(storedAs, len),
      role: storedAs === 'FIXED_LEN_BYTE_ARRAY' ? 'fixed' : 'int',
      expect: { physical: storedAs, logical: 'DECIMAL', precision: p, scale: s,
        type_length: storedAs === 'FIXED_LEN_BYTE_ARRAY' ? len : 0 },
      gen: (optional ? nullable : (_, g) => g)(0.15, (i, r) => {
        if (i % 11 === 0) return [max, -max, 0n, -1n][r.int(4)]
        return (r.i64() % max) * (p > 18 ? 1234567n : 1n) % max
      }),
    })
  }
  return specs
}

function buildTable(specs, rows, seed) {
  const r = rng(seed)
  const fields = [], children = [], columns = []
  for (const s of specs) {
    const values = Array.from({ length: rows }, (_, i) => s.gen(i, r))
    const kind = typeof s.kind === 'string' ? KINDS[s.kind] : s.kind
    fields.push(new A.Field(s.name, s.type, s.optional))
    children.push(kind.build(s.type, values))
    columns.push({
      name: s.name, optional: s.optional, physical: s.expect.physical, logical: s.expect.logical ?? 'NONE',
      unit: s.expect.unit ?? 'NONE', utc: s.expect.utc ?? false, type_length: s.expect.type_length ?? 0,
      int_bits: s.expect.int_bits ?? 0, int_signed: s.expect.int_signed ?? true,
      precision: s.expect.precision ?? 0, scale: s.expect.scale ?? 0,
      values: values.map(v => (v === null ? null : kind.cell(v))),
    })
  }
  // A column of Arrow's Null type: written as an always-null column (LogicalType UNKNOWN).
  fields.push(new A.Field('null_col', new A.Null(), true))
  children.push(A.makeData({ type: new A.Null(), length: rows }))
  columns.push({ name: 'null_col', optional: true, physical: 'INT32', logical: 'NULL', unit: 'NONE',
    utc: false, type_length: 0, int_bits: 0, int_signed: true, precision: 0, scale: 0, values: new Array(rows).fill(null) })
  const schema = new A.Schema(fields)
  const data = A.makeData({ type: new A.Struct(fields), length: rows, nullCount: 0, children })
  return { table: new A.Table([new A.RecordBatch(schema, data)]), columns }
}

// ---- encoding modes ----
// Each mode sets writer properties per column role and says which data page encodings each
// role must then show (checked by the test, so a silent fallback cannot hollow out the matrix).
const DICT = ['PLAIN_DICTIONARY', 'RLE_DICTIONARY']
const MODES = {
  // Dictionary pages for everything but booleans.
  dict: { dictionary: true, roles: {}, allowed: { bool: ['PLAIN', 'RLE'], int: DICT, float: DICT, bytes: DICT, fixed: DICT } },
  // A tiny dictionary limit: chunks start dictionary-encoded and fall back mid-chunk.
  fallback: { dictionary: true, dictLimit: 200, roles: {},
    allowed: { bool: ['PLAIN', 'RLE'], int: [...DICT, 'PLAIN', 'DELTA_BINARY_PACKED'], float: [...DICT, 'PLAIN'],
      bytes: [...DICT, 'PLAIN', 'DELTA_BYTE_ARRAY'], fixed: [...DICT, 'PLAIN', 'DELTA_BYTE_ARRAY'] } },
  plain: { dictionary: false, roles: { bool: 'PLAIN', int: 'PLAIN', float: 'PLAIN', bytes: 'PLAIN', fixed: 'PLAIN' } },
  delta: { dictionary: false,
    roles: { bool: 'RLE', int: 'DELTA_BINARY_PACKED', float: 'BYTE_STREAM_SPLIT',
      bytes: 'DELTA_LENGTH_BYTE_ARRAY', fixed: 'DELTA_BYTE_ARRAY' } },
  split: { dictionary: false,
    roles: { bool: 'PLAIN', int: 'BYTE_STREAM_SPLIT', float: 'PLAIN', bytes: 'DELTA_BYTE_ARRAY', fixed: 'BYTE_STREAM_SPLIT' } },
}
// Page sizes go with the codec, so every encoding and page version gets each: tiny pages (one
// value each: DELTA headers without blocks, one-value runs), small pages (a page per 61-row write
// batch: many page boundaries, runs cut short) and large ones (up to a whole 1000-row row group:
// DELTA blocks of 128 values, long RLE and bit-packed runs).
const CODECS = { UNCOMPRESSED: 'tiny', SNAPPY: 'large', GZIP: 'small', ZSTD: 'large' }
const PAGES = { tiny: { limit: 1, batch: 1 }, small: { limit: 200, batch: 61 }, large: { limit: 1 << 20, batch: 1024 } }
const ROW_GROUP_ROWS = 1000

function properties({ codec, version, mode, specs, rowGroupRows = ROW_GROUP_ROWS, pages = PAGES[CODECS[codec]] }) {
  const m = MODES[mode]
  let b = new P.WriterPropertiesBuilder()
    .setWriterVersion(version === 'v2' ? P.WriterVersion.V2 : P.WriterVersion.V1)
    .setCompression(P.Compression[codec])
    .setDictionaryEnabled(m.dictionary)
    .setMaxRowGroupSize(rowGroupRows)
    .setDataPageSizeLimit(pages.limit)
    .setWriteBatchSize(pages.batch)
    .setCreatedBy('bimride parquet_matrix.mjs via parquet-wasm')
  if (m.dictLimit) b = b.setDictionaryPageSizeLimit(m.dictLimit)
  for (const s of specs) {
    const e = m.roles[s.role]
    if (e) b = b.setColumnEncoding(s.name, P.Encoding[e])
  }
  return b.build()
}

function write(file, table, props) {
  const wasmTable = P.Table.fromIPCStream(A.tableToIPC(table, 'stream'))
  fs.writeFileSync(path.join(out, file), P.writeParquet(wasmTable, props))
}

const ROWS = 2500
const specs = columnSpecs()

if (seeds) {
  // Tiny files for the fuzzer's seed corpus (committed in tests/data/; keep them small).
  const pick = ['bool_opt', 'i32_opt', 'i64_req', 'u32_opt', 'f32_opt', 'f64_req', 'str_opt',
    'str_sorted', 'fixed7_opt', 'ts_ns', 'date_opt', 'dec38_req']
  const few = specs.filter(s => pick.includes(s.name))
  const t = buildTable(few, 40, 7)
  for (const [codec, version, mode] of [['SNAPPY', 'v1', 'delta'], ['ZSTD', 'v2', 'fallback'],
    ['GZIP', 'v2', 'split'], ['UNCOMPRESSED', 'v1', 'dict']]) {
    const file = `arrow_rs_${version}_${mode}_${codec.toLowerCase()}.parquet`
    write(file, t.table, properties({ codec, version, mode, specs: few, rowGroupRows: 25, pages: { limit: 200, batch: 9 } }))
  }
  console.log(`wrote 4 seed files to ${out}`)
  process.exit(0)
}
const main = buildTable(specs, ROWS, 20240601)
const manifest = {
  writer: 'parquet-wasm (arrow-rs parquet) ' + JSON.parse(fs.readFileSync(
    new URL('./node_modules/parquet-wasm/package.json', import.meta.url))).version,
  datasets: { main: { rows: ROWS, columns: main.columns } },
  files: [],
  refused: [],
}
for (const codec of Object.keys(CODECS)) {
  for (const version of ['v1', 'v2']) {
    for (const mode of Object.keys(MODES)) {
      const file = `${codec.toLowerCase()}_${version}_${mode}.parquet`
      write(file, main.table, properties({ codec, version, mode, specs }))
      const m = MODES[mode]
      const encodings = {}
      const dictionaryColumns = []
      for (const s of specs) {
        // arrow-rs never dictionary-encodes booleans, nor FIXED_LEN_BYTE_ARRAY under writer 1.0.
        const noDict = s.role === 'bool' || (s.role === 'fixed' && version === 'v1')
        encodings[s.name] = m.allowed ? (noDict && m.dictionary ? ['PLAIN', 'RLE'] : m.allowed[s.role])
          : [m.roles[s.role]]
        if (mode === 'dict' && !noDict) dictionaryColumns.push(s.name)
      }
      manifest.files.push({ file, dataset: 'main', codec, version, mode, row_group_rows: ROW_GROUP_ROWS,
        pages: CODECS[codec], encodings, dictionary_columns: dictionaryColumns, no_dictionary: !m.dictionary,
        fallback: mode === 'fallback' })
    }
  }
}

// Zero rows: a file with a schema and no row groups (or empty ones).
{
  const few = specs.filter(s => ['i32_opt', 'str_req', 'f64_req', 'ts_ns'].includes(s.name))
  const empty = buildTable(few, 0, 1)
  write('empty.parquet', empty.table, properties({ codec: 'ZSTD', version: 'v2', mode: 'dict', specs: few }))
  manifest.datasets.empty = { rows: 0, columns: empty.columns }
  manifest.files.push({ file: 'empty.parquet', dataset: 'empty', codec: 'ZSTD', version: 'v2', mode: 'dict',
    row_group_rows: ROW_GROUP_ROWS, pages: 'large', encodings: {}, dictionary_columns: [], no_dictionary: false, fallback: false })
}

// Files the reader must refuse (beyond the issue): nested columns and other codecs.
{
  const n = 50
  const ids = A.makeData({ type: new A.Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, i) => i) })
  const plain = (fields, children) => new A.Table([new A.RecordBatch(new A.Schema(fields),
    A.makeData({ type: new A.Struct(fields), length: n, nullCount: 0, children }))])
  const idField = new A.Field('id', new A.Int32(), false)
  const defaults = new P.WriterPropertiesBuilder().build()
  // A struct column "pickup" {zone: int32, borough: utf8}.
  const inner = [new A.Field('zone', new A.Int32(), true), new A.Field('borough', new A.Utf8(), true)]
  const zone = A.makeData({ type: new A.Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, i) => i % 7) })
  const borough = KINDS.bytes.build(new A.Utf8(), Array.from({ length: n }, (_, i) => enc.encode('b' + (i % 3))))
  const pickup = A.makeData({ type: new A.Struct(inner), length: n, nullCount: 0, children: [zone, borough] })
  write('refused_struct.parquet', plain([idField, new A.Field('pickup', new A.Struct(inner), true)], [ids, pickup]), defaults)
  manifest.refused.push({ file: 'refused_struct.parquet', column: 'pickup', what: 'nested' })
  // A list column "stops": list<int32>.
  const item = new A.Field('item', new A.Int32(), true)
  const listType = new A.List(item)
  const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i * 2)
  const items = A.makeData({ type: new A.Int32(), length: 2 * n, nullCount: 0, data: Int32Array.from({ length: 2 * n }, (_, i) => i) })
  const stops = A.makeData({ type: listType, length: n, nullCount: 0, valueOffsets: offsets, child: items })
  write('refused_list.parquet', plain([idField, new A.Field('stops', listType, true)], [ids, stops]), defaults)
  manifest.refused.push({ file: 'refused_list.parquet', column: 'stops', what: 'nested' })
  // Codecs beyond the four.
  for (const codec of ['LZ4_RAW', 'LZ4', 'BROTLI']) {
    const file = `refused_${codec.toLowerCase()}.parquet`
    write(file, plain([idField], [ids]), new P.WriterPropertiesBuilder().setCompression(P.Compression[codec]).build())
    manifest.refused.push({ file, column: 'id', what: 'codec ' + codec })
  }
}

fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest))
console.log(`wrote ${manifest.files.length + manifest.refused.length} files to ${out}`)
