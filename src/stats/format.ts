/** Numbers in verdict reasons and summaries: 3 decimals, or one significant digit when tiny (p-values). */
export const formatStat = (x: number): string => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(1));
