/** Left-aligned columns, two spaces apart. A short row's last cell spans the columns it lacks. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cellWidth = (r: readonly string[], i: number) =>
    i === r.length - 1 && r.length < header.length ? 0 : (r[i] ?? '').length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => cellWidth(r, i))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One line of at most `max` characters. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : flat.slice(0, max - 1) + '…';
}
