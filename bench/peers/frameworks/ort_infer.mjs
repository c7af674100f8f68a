// ONNX Runtime 1.30 (onnxruntime-node's native CPU library, one intra-op and one inter-op
// thread) as an inference peer of `bimride bench frameworks`: loads MODEL.onnx (a file our
// exporter wrote), predicts the first validation row (cold start), then times batch 1 and
// batch 256 over the validation rows of the workload folder. Prints one JSON line. With PRED,
// also writes its outputs for every validation row there (float32, rows × outputs), for the
// report's parity check against the framework that trained the model.
// Usage: node ort_infer.mjs WORKLOAD_DIR MODEL.onnx [PRED]
import { writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { fileBytes, msSinceSpawn, peakRssMb, rateAsync, readFloats, readSpec } from './bench_common.mjs';

const [dir, model, predOut] = process.argv.slice(2);
const spec = readSpec(dir);
const f = spec.num_features;
const x = readFloats(`${dir}/valid_x.bin`);
const rows = x.length / f;
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const input = session.inputNames[0];
const run = (s, b) => session.run({ [input]: new ort.Tensor('float32', x.subarray(s * f, (s + b) * f), [b, f]) });
await run(0, 1);
const cold = msSinceSpawn();
const b1 = await rateAsync(Math.min(rows, spec.b1_rows), 1, spec.infer_seconds, run);
const b256 = await rateAsync(rows, 256, spec.infer_seconds, run);
const peak = peakRssMb();  // before the parity batch below, which no other engine runs
if (predOut) {
  const t = (await run(0, rows))[session.outputNames[0]].data;
  writeFileSync(predOut, Buffer.from(t.buffer, t.byteOffset, t.byteLength));
}
console.log(JSON.stringify({ cold_start_ms: cold, b1_rows_per_s: b1, b256_rows_per_s: b256,
                             peak_rss_mb: peak, model_bytes: fileBytes([model]),
                             threads: 1, version: `onnxruntime-node ${ort.env.versions.node}` }));
