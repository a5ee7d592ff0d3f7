/** What the containment tool is called on the command line; its commands name it in their help and messages. */
export const CONTAINMENT_BIN = 'integrity-containment';
