// What the routing rows of a step event mean, for every view of a run (the
// dashboard, the report): each row's label and the modules its values belong to.

/**
 * What the routing rows mean (events.ts): rows 0..L−2 are the weights layers
 * 2..L receive, the last row is the output weights w over layer L's modules.
 */
export function routingRows(layers: readonly string[][], rows: number): { label: string; modules: string[] }[] {
  const L = layers.length;
  return Array.from({ length: rows }, (_, r) => {
    const last = r === rows - 1;
    const layer = last ? L : r + 2;
    const modules = layers[layer - 1] ?? [];
    return { label: last ? `out w (L${layer})` : `into L${layer}`, modules };
  });
}
