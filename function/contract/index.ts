/**
 * The contract the construct (`lib/`), the function (`function/`) and the tools (`cli/`) share:
 * the names they agree on, the shapes of identifiers, the function's settings with their ranges
 * and defaults, and the fields and values of its decision lines. Each is declared once, here;
 * this folder imports nothing outside itself.
 *
 * @packageDocumentation
 */
export * from './names';
export * from './patterns';
export * from './vocabulary';
export * from './settings';
export * from './endpoint';
export * from './decision-line';
export * from './containment';
