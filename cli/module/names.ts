/** What the module tool is called on the command line; its commands name it in their help. */
export const MODULE_BIN = 'integrity-module';
