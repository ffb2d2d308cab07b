// summarizeNetwork (sdfn build --dry-run): layers × modules, router, shapes, parameter counts.
import { describe, expect, it } from "vitest";
import { compileNetwork } from "../../src/graph/compile.js";
import { summarizeNetwork } from "../../src/graph/summary.js";
import { createRegistry } from "../../src/builtins.js";
import "../nn/helpers.js";

describe("summarizeNetwork", () => {
  it("prints the grid, the shapes and the parameter counts per part and in total", () => {
    const net = compileNetwork(
      {
        seed: 0,
        data: { image_size: 16 },
        encoders: { image: { type: "small_cnn", dim: 16, channels: [8, 16] }, text: { type: "lstm", hidden: 16, embedding_dim: 8 } },
        fusion: { layers: 2, modules: [{ type: "JRM", heads: 2 }, { type: "GTM" }, { type: "RCM" }], router: { type: "static" } },
      },
      createRegistry(),
      { vocabulary: { size: 10, words: [] }, filesDir: "." },
    );
    const text = summarizeNetwork(net);
    expect(text).toContain("network: d = 16, 2 fusion layers × 3 modules, router static");
    expect(text).toContain("reference (B, 16, 16, 3) → X (B, 16, 16)"); // 16 px → 4×4 tokens
    expect(text).toContain("module 0  JRM(heads=2)");
    expect(text).toMatch(/layer 0 +JRM +GTM +RCM +→ p \(B, 3, 3\) to layer 1/);
    expect(text).toMatch(/layer 1 +JRM +GTM +RCM +→ w \(B, 3, 1\) over the modules/);
    // GTM: γ and β, each 16×16 + 16
    expect(text).toMatch(/fusion\.layers\.1\.modules\.1 \(GTM\) +544\n/);
    expect(text).toMatch(/fusion\.layers\.0\.modules\.2 \(RCM\) +0\n/);
    expect(text).toMatch(/fusion\.layers\.0\.router \(static\) +0\n/);
    // text.embedding: 10 × 8
    expect(text).toMatch(/text\.embedding +80\n/);
    // small_cnn's running stats are fixed: 2 × (8 + 16)
    expect(text).toMatch(/image\.backbone +[\d,]+ +\(\+48 fixed\)/);
    const trainable = net.store.trainable().reduce((s, v) => s + v.size, 0);
    expect(text).toContain(`total`);
    expect(text).toMatch(new RegExp(`total +${trainable.toLocaleString("en-US")} trainable, 48 fixed`));
    net.dispose();
  });
});
