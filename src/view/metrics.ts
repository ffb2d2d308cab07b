// Which metrics a table or a log line shows: each evaluation set's ("dress/R@10"), then
// their averages over the sets ("avg/R@10") — left out when there is one set only, where
// they repeat it. The dashboard, the plain log and `sdfn compare` all ask here.

const AVERAGE = "avg/";

/** `names` in first-seen order, each set's before the averages; the averages dropped when one set only. */
export function shownMetrics(names: Iterable<string>): string[] {
  const all = [...new Set(names)];
  const own = all.filter((k) => !k.startsWith(AVERAGE));
  const sets = new Set(own.map((k) => k.slice(0, Math.max(0, k.lastIndexOf("/")))));
  return sets.size === 1 ? own : [...own, ...all.filter((k) => k.startsWith(AVERAGE))];
}
