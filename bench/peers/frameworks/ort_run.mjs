// Runs an ONNX file with ONNX Runtime (onnxruntime-node's native library, CPU, one thread) on
// the rows of a JSON file ({"inputs": [[...], ...]}, null = NaN) as one batch; prints
// {"outputs": [[...], ...]}: the float outputs of shape [N] or [N, k], side by side, in graph
// order — what our onnx backend returns — so the two can be compared row by row.
// Usage: node ort_run.mjs MODEL.onnx ROWS.json
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [model, rowsFile] = process.argv.slice(2);
if (!model || !rowsFile) {
  console.error('usage: node ort_run.mjs MODEL.onnx ROWS.json');
  process.exit(2);
}
const rows = JSON.parse(readFileSync(rowsFile, 'utf8')).inputs;
const width = rows[0].length;
const data = Float32Array.from(rows.flat().map((v) => (v === null ? NaN : v)));
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
});
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [rows.length, width]) };
const results = await session.run(feeds);
const outputs = rows.map(() => []);
for (const name of session.outputNames) {
  const t = results[name];
  if (t.type !== 'float32') continue;  // a classifier's int64 labels
  const k = t.dims.length === 1 ? 1 : t.dims[1];
  for (let r = 0; r < rows.length; ++r) {
    for (let j = 0; j < k; ++j) outputs[r].push(t.data[r * k + j]);
  }
}
console.log(JSON.stringify({ outputs }));
