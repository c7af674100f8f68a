// What every node peer of `bimride bench frameworks` shares (bench/frameworks/README in
// frameworks_bench.h): the workload's files, the timing loop, cold start and peak memory.
// A peer prints one JSON line of figures; the C++ side merges them into the report.
import { readFileSync, statSync } from 'node:fs';

// The workload folder's spec.json (rows, features, outputs, categorical columns, net, epochs).
export function readSpec(dir) {
  return JSON.parse(readFileSync(`${dir}/spec.json`, 'utf8'));
}

// A float32 matrix written by the C++ side (rows × cols, row-major).
export function readFloats(path) {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

// Milliseconds since the parent spawned this process (BIMRIDE_BENCH_SPAWN_NS, CLOCK_REALTIME).
export function msSinceSpawn() {
  const spawn = Number(BigInt(process.env.BIMRIDE_BENCH_SPAWN_NS ?? '0') / 1000n) / 1000;
  return spawn > 0 ? performance.timeOrigin + performance.now() - spawn : NaN;
}

// Peak resident memory of this process in MB (VmHWM).
export function peakRssMb() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function fileBytes(paths) {
  return paths.reduce((sum, p) => sum + statSync(p).size, 0);
}

// Rows per second of fn(start, batch) in batches over the first `rows` rows, wrapping around,
// until `seconds` have passed (the clock is read every 64 calls, as bench/bench_timing.h does);
// every call sees the next rows.
export function rate(rows, batch, seconds, fn) {
  const n = rows - (rows % batch);
  let calls = 0, s = 0;
  const t0 = performance.now();
  for (;;) {
    for (let k = 0; k < 64; ++k, ++calls) {
      fn(s, batch);
      s += batch;
      if (s >= n) s = 0;
    }
    const sec = (performance.now() - t0) / 1000;
    if (sec >= seconds) return (calls * batch) / sec;
  }
}

export async function rateAsync(rows, batch, seconds, fn) {
  const n = rows - (rows % batch);
  let calls = 0, s = 0;
  const t0 = performance.now();
  for (;;) {
    for (let k = 0; k < 64; ++k, ++calls) {
      await fn(s, batch);
      s += batch;
      if (s >= n) s = 0;
    }
    const sec = (performance.now() - t0) / 1000;
    if (sec >= seconds) return (calls * batch) / sec;
  }
}
