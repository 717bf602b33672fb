/** One benchmark figure, printed next to its target and the reference measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target: string;
  reference?: { name: string; value: number };
  ratio?: number;
  pass: boolean;
}
