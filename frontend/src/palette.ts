// Object colours: distinct, readable on dark video and on the dark UI.
export const PALETTE = ["#ff5a5f", "#3ba4ff", "#ffc234", "#a66bff", "#2fd4a7", "#ff8a3d", "#ff5ac8", "#8bd450", "#5ad7ff", "#c9a27e"];

export function nextColor(used: readonly string[]): string {
  const lower = new Set(used.map((c) => c.toLowerCase()));
  return PALETTE.find((c) => !lower.has(c)) ?? PALETTE[used.length % PALETTE.length];
}

export function nextObjectName(names: readonly string[]): string {
  let n = names.length + 1;
  const taken = new Set(names);
  while (taken.has(`Object ${n}`)) n++;
  return `Object ${n}`;
}
