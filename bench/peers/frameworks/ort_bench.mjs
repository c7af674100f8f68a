// ONNX Runtime's side of bench/onnx/onnx_bench: times InferenceSession.run (CPU, one intra-op
// and one inter-op thread, sequential) on the rows of ROWS.json, cycling through them so every
// call sees a different row (batch 1) or block of rows (batch 256). Also times the same calls on
// an Identity graph of the same input width, so the cost of calling from node (N-API, tensor
// wrapping) can be told apart from the model's. Prints one JSON line.
// Usage: node ort_bench.mjs MODEL.onnx IDENTITY.onnx ROWS.json CALLS_B1 CALLS_B256
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [model, identity, rowsFile, callsB1, callsB256] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(rowsFile, 'utf8')).inputs;
const width = rows[0].length;
const flat = Float32Array.from(rows.flat().map((v) => (v === null ? NaN : v)));
const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
                  graphOptimizationLevel: 'all' };

async function time(path, batch, calls) {
  const session = await ort.InferenceSession.create(path, options);
  const input = session.inputNames[0];
  const n = rows.length;
  const run = (i) => {
    const start = ((i * batch) % (n - batch + 1));
    const t = new ort.Tensor('float32', flat.subarray(start * width, (start + batch) * width),
                             [batch, width]);
    return session.run({ [input]: t });
  };
  for (let i = 0; i < 200; ++i) await run(i);  // warm-up
  const us = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; ++i) {
    const t0 = process.hrtime.bigint();
    await run(i);
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  us.sort((a, b) => a - b);
  return { p50_us: us[Math.floor(us.length / 2)], cpu_us_per_call: (cpu.user + cpu.system) / calls };
}

const out = {
  b1: await time(model, 1, Number(callsB1)),
  b256: await time(model, 256, Number(callsB256)),
  identity_b1: await time(identity, 1, Number(callsB1)),
};
console.log(JSON.stringify(out));
