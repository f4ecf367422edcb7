/** elkjs's worker script as text (extension/build.mjs loads node_modules/elkjs/lib/elk-worker.min.js so). */
declare module "elk-worker-source" {
  const source: string;
  export default source;
}
