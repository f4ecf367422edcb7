// Bundles the extension (Node, CommonJS, `vscode` external) and the webview pages (browser: the run
// panel, the visual editor, the chat panel) with esbuild into dist/; `--watch` rebuilds on change.
// The visual editor also carries elkjs's worker script as text (it starts ELK's worker from a Blob)
// and React Flow's stylesheet (dist/webview/reactflow.css).
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";

const watch = process.argv.includes("--watch");
const common = { bundle: true, sourcemap: true, minify: !watch, logLevel: "info" };

/** `import source from "elk-worker-source"`: elkjs's worker script as a string. */
const elkWorkerSource = {
  name: "elk-worker-source",
  setup(build) {
    build.onResolve({ filter: /^elk-worker-source$/ }, () => ({ path: "elk-worker-source", namespace: "elk-worker" }));
    build.onLoad({ filter: /.*/, namespace: "elk-worker" }, () => ({
      contents: readFileSync("node_modules/elkjs/lib/elk-worker.min.js", "utf8"), loader: "text" }));
  },
};

const builds = [
  { ...common, entryPoints: ["extension/src/extension.ts"], outfile: "dist/extension.js", platform: "node",
    format: "cjs", target: "node20", external: ["vscode"] },
  ...["runPanel", "flowEditor", "chat"].map((page) => ({ ...common, entryPoints: [`extension/webview/${page}.ts`],
    outfile: `dist/webview/${page}.js`, platform: "browser", format: "iife", target: "es2022", jsx: "automatic",
    define: { "process.env.NODE_ENV": watch ? '"development"' : '"production"' }, plugins: [elkWorkerSource] })),
];
mkdirSync("dist/webview", { recursive: true });
for (const page of ["base", "runPanel", "flowEditor", "chat"]) {
  copyFileSync(`extension/webview/${page}.css`, `dist/webview/${page}.css`);
}
copyFileSync("node_modules/@xyflow/react/dist/style.css", "dist/webview/reactflow.css");
if (watch) {
  for (const options of builds) {
    await (await esbuild.context(options)).watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
