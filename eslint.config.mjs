// Lint of the extension's TypeScript (npm run lint).
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "extension/out/**", "tests/e2e/out/**", "node_modules/**", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["extension/**/*.ts", "tests/e2e/*.ts"],
    rules: {
      "no-console": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
    },
  },
);
