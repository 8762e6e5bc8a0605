// The llama.cpp side of `scripts/bench llamacpp`: loads a GGUF with node-llama-cpp's prebuilt CPU binaries and
// prints one JSON object: the next-token probabilities after chosen positions of the prompt (to check that llama.cpp
// computes what the noir engine computes), how llama.cpp's own tokenizer splits the text, and prefill and greedy
// decode times. Usage: node llamacpp.mjs MODEL.gguf IDS_FILE TEXT_FILE --decode N --rounds R --threads T --check K
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, idsFile, textFile, ...rest] = process.argv.slice(2);
const option = (name, fallback) => { const i = rest.indexOf(name); return i >= 0 ? Number(rest[i + 1]) : fallback; };
const decode = option("--decode", 32), rounds = option("--rounds", 3), threads = option("--threads", 2), check = option("--check", 4);
const prompt = readFileSync(idsFile, "utf8").trim().split(",").map(Number);
const text = readFileSync(textFile, "utf8");

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: prompt.length + decode + 16, threads, batchSize: Math.max(512, prompt.length)});
const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;

// Probabilities after the last `check` positions of the prompt, dense over the vocabulary.
const sequence = context.getSequence();
const items = prompt.map((t, i) => i >= prompt.length - check ? [t, {generateNext: {probabilities: true}}] : t);
const evaluated = await sequence.controlledEvaluate(items);
const probabilities = [];
for (let i = prompt.length - check; i < prompt.length; i++) {
    const dense = new Array(vocab).fill(0);
    for (const [token, p] of evaluated[i].next.probabilities) dense[token] = p;
    probabilities.push({position: i, p: dense});
}
await sequence.clearHistory();

// Prefill: time to the first generated token; decode: the time per token after it (greedy, sampled natively).
const prefillMs = [], decodeMs = [], generated = [];
for (let round = 0; round <= rounds; round++) {   // round 0 warms up and is not counted
    const tokens = [];
    const start = performance.now();
    let first = 0;
    for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
        if (tokens.length === 0) first = performance.now();
        tokens.push(token);
        if (tokens.length > decode) break;
    }
    const end = performance.now();
    if (round > 0) { prefillMs.push(first - start); decodeMs.push((end - first) / decode); }
    if (round === 0) generated.push(...tokens);
    await sequence.clearHistory();
}
console.log(JSON.stringify({
    node_llama_cpp: JSON.parse(readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url), "utf8")).version,
    llama_cpp_release: llama.llamaCppRelease?.release,
    threads, vocab, tokenized: Array.from(model.tokenize(text, false)), generated, prefill_ms: prefillMs, decode_ms_per_token: decodeMs, probabilities,
}));
await context.dispose();
await model.dispose();
