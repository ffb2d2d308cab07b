// One process of layout-chains.test.ts: every chain in every input form on the torch backend, as
// this process's environment configures it (SDFN_TORCH_CONV_FORMAT, ONEDNN_MAX_CPU_ISA,
// ATEN_CPU_CAPABILITY are read once per process). Writes OUT/chains.json (the specs, the machine
// facts) and OUT/sdfn.safetensors (`<case>.input.*`, `<case>.param.*`, `<case>.output.y`,
// `<case>.grad.*`, case = c<chain>.<form>) for bench/reference/chains.py.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";

import type { PlainTensor } from "../../bench/reference/exchange.js";
import { machineFacts, useBackend } from "../../src/backend/index.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import { CHAINS, chainValues, ENV_KEYS, INPUT_FORMS, runChain } from "./layout-chains.js";

tf.env().set("PROD", true);
const out = process.argv[2]!;
mkdirSync(out, { recursive: true });
const { name } = await useBackend("torch");
const tensors: Record<string, PlainTensor> = {};
for (const [ci, chain] of CHAINS.entries()) {
  for (const [fi, form] of INPUT_FORMS.entries()) {
    const key = `c${ci}.${form}`;
    const values = chainValues(chain, form, 1000 + 10 * ci + fi);
    tensors[`${key}.input.base`] = values.base;
    tensors[`${key}.input.r`] = values.r;
    for (const [p, t] of Object.entries(values.params)) tensors[`${key}.param.${p}`] = t;
    for (const [k, t] of Object.entries(await runChain(chain, form, values))) tensors[`${key}.${k}`] = t;
  }
}
writeSafetensors(join(out, "sdfn.safetensors"), tensors);
const env = Object.fromEntries(ENV_KEYS.filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
writeFileSync(join(out, "chains.json"), JSON.stringify({ backend: name, env, chains: CHAINS, forms: INPUT_FORMS, machine: machineFacts() }));
