import { runAsCommand } from './tool';
import { BIN as BASELINES, run as baselines } from './integrity-baselines';
import { BIN as BUDGET, run as budget } from './integrity-budget';
import { BIN as CONTAINMENT, run as containment } from './integrity-containment';
import { BIN as MODULE, run as moduleTool } from './integrity-module';

/**
 * The package's operator commands, by bin name: bundled once into `dist/bin/commands.js` (the
 * Firestore client they share is ≈8 MB), each bin a two-line file that runs its entry.
 */
export const COMMANDS: Readonly<Record<string, () => void>> = {
  [BASELINES]: () => runAsCommand(BASELINES, baselines),
  [BUDGET]: () => runAsCommand(BUDGET, budget),
  [CONTAINMENT]: () => runAsCommand(CONTAINMENT, containment),
  [MODULE]: () => runAsCommand(MODULE, moduleTool),
};
