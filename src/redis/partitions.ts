import calculateSlot from 'cluster-key-slot';

/** Redis Cluster's slot count: a cluster splits these into equal ranges, one per master, by default. */
const SLOTS = 16384;

/**
 * The prefix of partition `p` of `count`. With one partition, the prefix itself. Else its `{tag}` becomes a
 * hash tag of its own, `{tag-p<p>}`, or `{tag-p<p>-<n>}` with the smallest `n` that puts the tag's slot in
 * the p-th of `count` equal slot ranges: partitions then spread evenly over masters holding equal ranges,
 * where plain `{tag-p<p>}` tags fall wherever CRC16 puts them (6 of them on 3 masters: 1, 2 and 3).
 * Deterministic, so every process agrees.
 */
export function partitionPrefix(prefix: string, p: number, count: number): string {
  if (count <= 1) return prefix;
  const match = /\{([^{}\s]+)\}/.exec(prefix);
  if (!match?.[1]) return `${prefix}-p${p}`;
  const from = Math.floor((p * SLOTS) / count);
  const to = Math.floor(((p + 1) * SLOTS) / count);
  const base = `${match[1]}-p${p}`;
  let tag = base;
  for (let n = 1; ; n++) {
    const slot = calculateSlot(tag);
    if (slot >= from && slot < to) break;
    tag = `${base}-${n}`;
  }
  return prefix.replace(match[0], `{${tag}}`);
}
