// Moving an index to a distributed engine when one machine is outgrown: its vectors and ids as
// NumPy files, the format Milvus' bulk import reads one file per field of (vector.npy, id.npy,
// item_id.npy, path.npy), and that FAISS takes through numpy.load (faiss.IndexFlatIP or any
// other index over vector.npy, ids from id.npy). schema.json says which file is which field.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { withPath } from "../io/io-error.js";
import { npyFloat32, npyInt64, npyUnicode } from "../io/npy.js";
import { writeDirectory } from "../run/output-dir.js";
import type { CatalogueIndex } from "./search.js";

export const EXPORT_FILES = ["vector.npy", "id.npy", "item_id.npy", "path.npy", "schema.json"] as const;

/** The collection a Milvus import (or any engine) creates for the exported fields. */
function schemaOf(index: CatalogueIndex) {
  const longest = (values: string[]) => Math.max(1, ...values.map((v) => Buffer.byteLength(v)));
  return {
    format: "sdfn-index-export",
    version: 1,
    metric: "IP",
    note: "vectors are L2-normalised target embeddings: inner product = the cosine score sdfn ranks by",
    run: index.meta.run,
    count: index.count,
    fields: [
      { name: "id", file: "id.npy", type: "INT64", primary_key: true, description: "the row number in the sdfn index" },
      { name: "vector", file: "vector.npy", type: "FLOAT_VECTOR", dim: index.meta.dim },
      { name: "item_id", file: "item_id.npy", type: "VARCHAR", max_length: longest(index.items.map((i) => i.id)) },
      { name: "path", file: "path.npy", type: "VARCHAR", max_length: longest(index.items.map((i) => i.path ?? "")), description: "the image file, empty for generated images" },
    ],
  };
}

/** Writes the index's vectors and ids to `out` (a directory, written whole). */
export async function exportIndex(index: CatalogueIndex, out: string): Promise<string[]> {
  const root = resolve(out);
  await writeDirectory(root, { marker: "schema.json", format: "sdfn-index-export" }, (tmp) => {
    const put = (name: string, data: string | Uint8Array) => withPath(join(tmp, name), "write", () => writeFileSync(join(tmp, name), data));
    put("vector.npy", npyFloat32(index.embeddings, index.count, index.meta.dim));
    put("id.npy", npyInt64(index.items.map((_, row) => row)));
    put("item_id.npy", npyUnicode(index.items.map((i) => i.id)));
    put("path.npy", npyUnicode(index.items.map((i) => i.path ?? "")));
    put("schema.json", `${JSON.stringify(schemaOf(index), null, 2)}\n`);
  });
  return EXPORT_FILES.map((f) => join(root, f));
}
