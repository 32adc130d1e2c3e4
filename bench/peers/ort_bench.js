#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU) inference timing for the peer benchmark, on the ONNX
// files that models.py exports. Sequential execution, all graph optimizations,
// intraOpNumThreads = --threads. Warms up, then runs for --seconds and prints the median:
//   ort w1 1 ms/batch: 0.049
//   node bench/peers/ort_bench.js [--seconds 5] [--threads 2] [--cache DIR] [NAME BATCH ...]
// With no NAME BATCH pairs it runs every workload (w1 1, w1 256, vgg16 1, seed_head 64).
'use strict';
const path = require('path');
const ort = require('onnxruntime-node');

const INPUTS = { w1: [1, 28, 28], vgg16: [3, 224, 224], seed_head: [512, 4, 4] };  // NCHW
const WORKLOADS = [['w1', 1], ['w1', 256], ['vgg16', 1], ['seed_head', 64]];

const opt = { seconds: 5, warmup: 1, threads: 2, cache: path.join(__dirname, '.cache') };
const work = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) opt[argv[i].slice(2)] = argv[++i];
  else { work.push([argv[i], Number(argv[i + 1])]); i++; }
}

// Median ms of fn() after `warmup` s (at least 3 calls), over at least `seconds` s (5 calls).
async function timeMs(fn, seconds, warmup) {
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  let end = now() + warmup;
  for (let n = 0; n < 3 || now() < end; n++) await fn();
  const times = [];
  end = now() + seconds;
  while (times.length < 5 || now() < end) {
    const t0 = now();
    await fn();
    times.push(now() - t0);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return 1e3 * (times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2);
}

async function main() {
  for (const [name, batch] of work.length ? work : WORKLOADS) {
    const session = await ort.InferenceSession.create(path.join(opt.cache, name + '.onnx'), {
      executionProviders: ['cpu'], intraOpNumThreads: Number(opt.threads), interOpNumThreads: 1,
      graphOptimizationLevel: 'all', executionMode: 'sequential',
    });
    const dims = [batch, ...INPUTS[name]];
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => Math.random());
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
    const ms = await timeMs(() => session.run(feeds), Number(opt.seconds), Number(opt.warmup));
    console.log(`ort ${name} ${batch} ms/batch: ${ms.toFixed(4)}`);
    await session.release();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
