// The resolved recipe as YAML: block style, short lists of scalars in flow style
// (`recall_at: [10, 50]`), mappings of scalars inside lists in flow style.
import { Document, isScalar, isSeq, visit } from "yaml";

export function toYaml(recipe: unknown, from: string): string {
  const doc = new Document(recipe);
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every(isScalar)) seq.flow = true;
    },
    Map(_, map, path) {
      const parent = path[path.length - 1];
      if (isSeq(parent) && map.items.every((p) => isScalar(p.value) || (isSeq(p.value) && p.value.items.every(isScalar)))) {
        map.flow = true;
      }
    },
  });
  doc.commentBefore = ` Resolved from ${from} by sdfn: extends, --set overrides and every default applied.`;
  return doc.toString({ lineWidth: 120, flowCollectionPadding: false });
}
