// TensorFlow.js 4.22 with its WebAssembly backend (one thread) as a peer of `bimride bench
// frameworks`: the same MLP as the LibTorch net (an embedding per id column, standardised
// numeric columns, ReLU hidden layers, linear output; MSE, or Poisson NLL on log-rates), Adam,
// the same rows, batch size and epochs.
//   node tfjs_mlp.mjs train DIR OUT   trains on DIR's train_*.bin, writes OUT/model.json +
//                                     weights.bin + scaler.json and OUT/valid_pred.bin
//   node tfjs_mlp.mjs infer DIR OUT   loads OUT's model, predicts the first validation row
//                                     (cold start), times batch 1 and 256 on the validation rows
// Prints one JSON line of figures.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { fileBytes, msSinceSpawn, peakRssMb, rate, readFloats, readSpec } from './bench_common.mjs';

const [mode, dir, out] = process.argv.slice(2);
const spec = readSpec(dir);
setThreadsCount(1);
await tf.setBackend('wasm');
tf.enableProdMode();

const f = spec.num_features;
const cats = spec.categorical;  // [[column, cardinality, dim], ...]
const catCols = cats.map((c) => c[0]);
const numCols = [...Array(f).keys()].filter((c) => !catCols.includes(c));

// The net's inputs from raw rows: one Int32Array per id column (clipped into range) and the
// standardised numeric columns.
function split(x, rows, scaler) {
  const ids = cats.map(([col, card]) => Int32Array.from({ length: rows }, (_, r) =>
    Math.min(card - 1, Math.max(0, Math.trunc(x[r * f + col]) || 0))));
  const num = new Float32Array(rows * numCols.length);
  for (let r = 0; r < rows; ++r) {
    numCols.forEach((c, j) => {
      num[r * numCols.length + j] = (x[r * f + c] - scaler.mean[j]) / scaler.std[j];
    });
  }
  return { ids, num };
}

function tensors(inp, s, b) {
  return [...inp.ids.map((a) => tf.tensor2d(a.subarray(s, s + b), [b, 1], 'int32')),
          tf.tensor2d(inp.num.subarray(s * numCols.length, (s + b) * numCols.length),
                      [b, numCols.length])];
}

// An embedding table. The WASM backend has no UnsortedSegmentSum kernel, which the gradient of
// tf.layers.embedding's gather needs, so training looks rows up as oneHot(id) · table (the same
// values and gradient); prediction gathers.
class IdEmbedding extends tf.layers.Layer {
  static className = 'IdEmbedding';
  constructor(config) {
    super(config);
    this.inputDim = config.inputDim;
    this.outputDim = config.outputDim;
  }
  build() {
    this.table = this.addWeight('table', [this.inputDim, this.outputDim], 'float32',
                                tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }));
    this.built = true;
  }
  computeOutputShape(shape) { return [shape[0], this.outputDim]; }
  call(inputs, kwargs) {
    return tf.tidy(() => {
      const ids = tf.reshape(Array.isArray(inputs) ? inputs[0] : inputs, [-1]);
      return kwargs.training ? tf.matMul(tf.oneHot(ids, this.inputDim), this.table.read())
                             : tf.gather(this.table.read(), ids);
    });
  }
  getConfig() { return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim }; }
}
tf.serialization.registerClass(IdEmbedding);

function buildNet() {
  const idInputs = cats.map((_, k) => tf.input({ shape: [1], dtype: 'int32', name: `id${k}` }));
  const numInput = tf.input({ shape: [numCols.length], name: 'num' });
  const parts = cats.map(([, card, dim], k) =>
    new IdEmbedding({ inputDim: card, outputDim: dim }).apply(idInputs[k]));
  let h = tf.layers.concatenate().apply([...parts, numInput]);
  for (const width of spec.hidden) h = tf.layers.dense({ units: width, activation: 'relu' }).apply(h);
  const o = tf.layers.dense({ units: spec.num_outputs }).apply(h);
  return tf.model({ inputs: [...idInputs, numInput], outputs: o });
}

const poisson = (yTrue, yPred) => tf.mean(tf.sub(tf.exp(yPred), tf.mul(yTrue, yPred)));

if (mode === 'train') {
  mkdirSync(out, { recursive: true });
  const x = readFloats(`${dir}/train_x.bin`);
  const y = readFloats(`${dir}/train_y.bin`);
  const rows = x.length / f;
  const mean = numCols.map(() => 0), std = numCols.map(() => 0);
  for (let r = 0; r < rows; ++r) numCols.forEach((c, j) => { mean[j] += x[r * f + c]; });
  numCols.forEach((_, j) => { mean[j] /= rows; });
  for (let r = 0; r < rows; ++r) numCols.forEach((c, j) => { std[j] += (x[r * f + c] - mean[j]) ** 2; });
  numCols.forEach((_, j) => { std[j] = Math.sqrt(std[j] / rows); if (std[j] < 1e-6) std[j] = 1; });
  const scaler = { mean, std };
  const inp = split(x, rows, scaler);
  const xs = tensors(inp, 0, rows);
  const ys = tf.tensor2d(y, [rows, spec.num_outputs]);
  const net = buildNet();
  net.compile({ optimizer: tf.train.adam(spec.learning_rate),
                loss: spec.loss === 'poisson' ? poisson : 'meanSquaredError' });
  const t0 = performance.now();
  const hist = await net.fit(xs, ys, { batchSize: spec.batch_size, epochs: spec.epochs, shuffle: true, verbose: 0 });
  const sec = (performance.now() - t0) / 1000;
  await net.save(tf.io.withSaveHandler(async (a) => {
    writeFileSync(`${out}/model.json`, JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs }));
    writeFileSync(`${out}/weights.bin`, Buffer.from(a.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  writeFileSync(`${out}/scaler.json`, JSON.stringify(scaler));
  // Validation predictions (rates for a Poisson net), for the report's accuracy column.
  const vx = readFloats(`${dir}/valid_x.bin`);
  const vrows = vx.length / f;
  let pred = net.predict(tensors(split(vx, vrows, scaler), 0, vrows));
  if (spec.loss === 'poisson') pred = tf.exp(pred);
  writeFileSync(`${out}/valid_pred.bin`, Buffer.from(pred.dataSync().buffer));
  const loss = hist.history.loss;
  console.log(JSON.stringify({ train_samples_per_s: rows * spec.epochs / sec, train_seconds: sec,
                               final_train_loss: loss[loss.length - 1], peak_rss_mb: peakRssMb(),
                               threads: 1, version: `@tensorflow/tfjs ${tf.version.tfjs} (${tf.getBackend()})` }));
} else if (mode === 'infer') {
  const files = [`${out}/model.json`, `${out}/weights.bin`, `${out}/scaler.json`];
  const saved = JSON.parse(readFileSync(files[0], 'utf8'));
  const w = readFileSync(files[1]);
  const net = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: saved.modelTopology, weightSpecs: saved.weightSpecs,
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
  const scaler = JSON.parse(readFileSync(files[2], 'utf8'));
  const vx = readFloats(`${dir}/valid_x.bin`);
  const rows = vx.length / f;
  const inp = split(vx, rows, scaler);  // the raw rows split once, as the others read them once
  const run = (s, b) => tf.tidy(() => {
    let p = net.predict(tensors(inp, s, b));
    if (spec.loss === 'poisson') p = tf.exp(p);
    return p.dataSync();
  });
  run(0, 1);
  const cold = msSinceSpawn();
  const b1 = rate(Math.min(rows, spec.b1_rows), 1, spec.infer_seconds, run);
  const b256 = rate(rows, 256, spec.infer_seconds, run);
  console.log(JSON.stringify({ cold_start_ms: cold, b1_rows_per_s: b1, b256_rows_per_s: b256,
                               peak_rss_mb: peakRssMb(), model_bytes: fileBytes(files), threads: 1,
                               version: `@tensorflow/tfjs ${tf.version.tfjs} (${tf.getBackend()})` }));
} else {
  console.error('usage: node tfjs_mlp.mjs train|infer DIR OUT');
  process.exit(2);
}
