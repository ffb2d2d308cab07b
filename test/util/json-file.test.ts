// src/util/json-file.ts: a damaged JSON file sdfn wrote is named with the line and column where it
// breaks, whether it is cut off, and the fix; its own text is never repeated.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DamagedFileError, readJsonFile } from "../../src/util/json-file.js";
import { UserError } from "../../src/util/errors.js";

const dir = mkdtempSync(join(tmpdir(), "sdfn-json-"));
const damaged = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  try {
    readJsonFile(file, "FIX");
  } catch (err) {
    expect(err).toBeInstanceOf(DamagedFileError);
    expect(err).toBeInstanceOf(UserError); // exit 2
    return (err as Error).message.replace(file, "FILE");
  }
  throw new Error("no error");
};

describe("readJsonFile", () => {
  it("reads a whole file", () => {
    writeFileSync(join(dir, "ok.json"), '{"a": [1, 2]}\n');
    expect(readJsonFile(join(dir, "ok.json"), "FIX")).toEqual({ a: [1, 2] });
  });

  it("a file cut off inside a string or between values: where it ends, and that it is cut off", () => {
    expect(damaged("cut-string.json", '{"words": ["<pad>", "secr')).toBe(
      "FILE:1:26: not valid JSON: Unterminated string (the file is cut off: a full disk or a killed writer?); FIX",
    );
    expect(damaged("cut-list.json", '{\n  "words": [\n    "a",\n')).toBe("FILE:4:1: not valid JSON: it ends early (the file is cut off: a full disk or a killed writer?); FIX");
  });

  it("a bad character inside: its line and column; the file's text is not repeated", () => {
    expect(damaged("inside.json", '{\n  "a": 1,\n  "b": 2 "c"\n}\n')).toBe("FILE:3:10: not valid JSON: Expected ',' or '}' after property value; FIX");
    const message = damaged("token.json", '{"secret-token": }');
    expect(message).toBe("FILE: not valid JSON: Unexpected token '}'; FIX");
    expect(message).not.toContain("secret");
  });
});
