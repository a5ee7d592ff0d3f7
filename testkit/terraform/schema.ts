import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Provider schemas as `terraform providers schema -json` prints them, one fixture file per
 * provider release in schemas/ (where each came from is recorded in the file).
 */

/** A type as the schema JSON writes it: "string", ["list","string"], ["object",{...}], "dynamic". */
export type SchemaType = string | [string, SchemaType | Record<string, SchemaType>];

export interface SchemaAttribute {
  readonly type?: SchemaType;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  readonly deprecated?: boolean;
  readonly description?: string;
}

export interface SchemaBlockType {
  readonly nesting_mode: 'single' | 'list' | 'set' | 'map' | 'group';
  readonly block: SchemaBlock;
  readonly min_items?: number;
  readonly max_items?: number;
}

export interface SchemaBlock {
  readonly attributes?: Record<string, SchemaAttribute>;
  readonly block_types?: Record<string, SchemaBlockType>;
  readonly description?: string;
  readonly deprecated?: boolean;
}

export interface Schema {
  readonly version: number;
  readonly block: SchemaBlock;
}

/** One provider release's schemas, as the stand-in serves them. */
export interface ProviderSchemas {
  /** Registry address, e.g. registry.terraform.io/hashicorp/google. */
  readonly provider: string;
  readonly version: string;
  readonly provider_schema?: Schema;
  readonly resource_schemas: Record<string, Schema>;
  readonly data_source_schemas: Record<string, Schema>;
}

/** The directory of the schema fixtures. */
export const SCHEMA_DIR = join(__dirname, 'schemas');

/** Every provider release with a fixture, by registry address. */
export function loadSchemas(dir: string = SCHEMA_DIR): Map<string, ProviderSchemas> {
  const found = new Map<string, ProviderSchemas>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const schemas = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProviderSchemas;
    if (typeof schemas.provider !== 'string' || typeof schemas.resource_schemas !== 'object') continue;
    if (found.has(schemas.provider)) throw new Error(`two schema fixtures for ${schemas.provider} in ${dir}`);
    found.set(schemas.provider, schemas);
  }
  return found;
}
