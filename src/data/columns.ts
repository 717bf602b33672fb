/** CSV header analysis: numbered columns (`x_0 … x_783`, `px1 px2`) are gathered into one vector field. */

export interface ColumnPlan {
  /** Output field per column; a vector's members share one field name. */
  fields: string[];
  /** For vector members, the slot in the vector; -1 for a plain column. */
  slots: number[];
  /** Vector field name -> length. */
  vectors: Map<string, number>;
}

const NUMBERED = /^(.*?)_?(\d+)$/;

export function planColumns(header: string[]): ColumnPlan {
  const groups = new Map<string, { col: number; n: number }[]>();
  header.forEach((name, col) => {
    const m = NUMBERED.exec(name);
    if (!m || m[1] === '') return;
    const prefix = m[1]!;
    const list = groups.get(prefix) ?? [];
    list.push({ col, n: Number(m[2]) });
    groups.set(prefix, list);
  });
  const plain = new Set(header);
  const fields = header.slice();
  const slots = header.map(() => -1);
  const vectors = new Map<string, number>();
  for (const [prefix, members] of groups) {
    // A run needs 2+ columns, distinct indices, and no plain column already named like the vector.
    if (members.length < 2 || plain.has(prefix)) continue;
    const indices = new Set(members.map((m) => m.n));
    if (indices.size !== members.length) continue;
    const ordered = members.slice().sort((a, b) => a.n - b.n);
    ordered.forEach((m, slot) => {
      fields[m.col] = prefix;
      slots[m.col] = slot;
    });
    vectors.set(prefix, ordered.length);
  }
  return { fields, slots, vectors };
}
