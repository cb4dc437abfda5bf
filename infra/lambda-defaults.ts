import { fileURLToPath } from 'node:url';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The project's root: where `package-lock.json` lives and where esbuild resolves modules from. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LOCK_FILE = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/** The Lambda entry points under `functions/`, each exporting `handler`. */
export type HandlerName = 'api' | 'recorder' | 'projector';

export function entryPath(name: HandlerName): string {
  return fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));
}

export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE = Architecture.ARM_64;

/**
 * ESM bundles have no `require`; CommonJS dependencies that call it (directly or through esbuild's shim) get one
 * built from `import.meta.url`. The alias keeps the banner's import from clashing with the bundle's own.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __h20CreateRequire } from 'node:module'; const require = __h20CreateRequire(import.meta.url);";

/**
 * How every handler is bundled: by the project's own esbuild (never Docker), as minified ESM with source maps,
 * leaving out the AWS SDK v3, which the Node.js runtime provides.
 */
export const BUNDLING: BundlingOptions = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node24',
  externalModules: ['@aws-sdk/*'],
  logLevel: LogLevel.WARNING,
};

/** Makes Node.js apply the bundles' source maps to stack traces. */
export const SOURCE_MAP_ENVIRONMENT = { NODE_OPTIONS: '--enable-source-maps' } as const;
