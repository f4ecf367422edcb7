/**
 * Which Python runs the language server and the flows (DESIGN.md section 7), as a pure function of
 * what is known, so the order is unit-tested without VS Code: the setting, else the Python
 * extension's choice, else a `.venv` in a workspace folder, else `python3` on PATH.
 */

export interface Candidate {
  path: string;
  /** Where the candidate comes from, for messages: "setting", "Python extension", ".venv", "PATH". */
  source: string;
}

export interface Known {
  setting: string;
  pythonExtension?: string;
  workspaceFolders: string[];
  platform: string;
  exists: (path: string) => boolean;
}

/** `${workspaceFolder}` and a leading `~` expanded, as VS Code users write them in settings. */
export function expand(path: string, workspaceFolder: string | undefined, home: string): string {
  let result = path;
  if (workspaceFolder !== undefined) {
    result = result.split("${workspaceFolder}").join(workspaceFolder);
  }
  if (result === "~" || result.startsWith("~/")) {
    result = home + result.slice(1);
  }
  return result;
}

function venvPython(folder: string, platform: string): string {
  return platform === "win32" ? `${folder}\\.venv\\Scripts\\python.exe` : `${folder}/.venv/bin/python`;
}

/** Interpreters to try, best first (the first one that can run the server is used). */
export function candidates(known: Known): Candidate[] {
  const found: Candidate[] = [];
  if (known.setting) {
    found.push({ path: known.setting, source: "setting flowline.python.interpreterPath" });
    return found;  // an explicit choice is not second-guessed
  }
  if (known.pythonExtension) {
    found.push({ path: known.pythonExtension, source: "the Python extension" });
  }
  for (const folder of known.workspaceFolders) {
    const venv = venvPython(folder, known.platform);
    if (known.exists(venv)) {
      found.push({ path: venv, source: ".venv of the workspace" });
    }
  }
  found.push({ path: known.platform === "win32" ? "python" : "python3", source: "PATH" });
  return found;
}

/** The oldest Python the server runs on. */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** Parses "3.11.7" (or "3.11") and tells whether it is recent enough. */
export function recentEnough(version: string): boolean {
  const [major, minor] = version.split(".").map((part) => Number.parseInt(part, 10));
  if (Number.isNaN(major) || Number.isNaN(minor)) {
    return false;
  }
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}
