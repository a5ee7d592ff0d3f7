/** What the action-budget tool is called on the command line; its commands name it in their help. */
export const BUDGET_BIN = 'integrity-budget';
