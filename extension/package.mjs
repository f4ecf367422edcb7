// Packs the extension into flowline-<version>.vsix: the esbuild bundles, the Python server's source
// (symlinks resolved), the schemas and the media, staged in dist/vsix so that nothing else slips in.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = process.cwd();
const stage = join(root, "dist", "vsix");
const manifest = JSON.parse(readFileSync("package.json", "utf-8"));
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const { scripts: _scripts, devDependencies: _dev, dependencies: _deps, ...shipped } = manifest;
writeFileSync(join(stage, "package.json"), JSON.stringify(shipped, null, 2) + "\n");
const skip = (source) => !/__pycache__|\.pyc$|\.map$/.test(source);
cpSync("dist/extension.js", join(stage, "dist", "extension.js"));
cpSync("dist/webview", join(stage, "dist", "webview"), { recursive: true, filter: skip });
cpSync("server/flowline", join(stage, "server", "flowline"), { recursive: true, dereference: true, filter: skip });
cpSync("server/requirements.txt", join(stage, "server", "requirements.txt"));
cpSync("schemas", join(stage, "schemas"), { recursive: true });
cpSync("extension/media", join(stage, "extension", "media"), { recursive: true });
for (const file of ["README.md", "LICENSE", "CHANGELOG.md"]) {
  cpSync(file, join(stage, file));
}
writeFileSync(join(stage, ".vscodeignore"), "**/*.map\n");
const output = join(root, `flowline-${manifest.version}.vsix`);
execFileSync(join(root, "node_modules", ".bin", "vsce"), ["package", "--no-dependencies", "--allow-missing-repository",
  "--no-rewrite-relative-links", "--out", output], { cwd: stage, stdio: "inherit" });
console.log(output);
