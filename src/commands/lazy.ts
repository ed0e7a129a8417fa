/**
 * How every command is wired, so that `labctl --version` and `--help` load almost nothing:
 *
 * - `src/commands/<name>.ts` defines the command for commander: its flags, defaults and help,
 *   complete at startup. It imports only commander's types, this file and light constants
 *   (paths, flag lists), never the code that does the work nor a library that code needs.
 * - `src/commands/actions/<name>.ts` holds what runs: the lock (`locked`), the flag checks and
 *   the call into src/. Its `.action` is `lazy(() => import('./actions/<name>.js'), 'exportName')`,
 *   so the module, and openpgp, execa, the lab or the report behind it, is imported only when
 *   that command runs, once.
 *
 * test/unit/startup.test.ts holds cli.ts's static imports to that.
 */

type AnyAction = (...args: any[]) => void | Promise<void>;

/** A commander action that imports `load()` when the command runs and calls its export `name`. */
export function lazy<M, K extends { [P in keyof M]: M[P] extends AnyAction ? P : never }[keyof M]>(
  load: () => Promise<M>,
  name: K,
): (...args: M[K] extends AnyAction ? Parameters<M[K]> : never) => Promise<void> {
  return async (...args) => {
    const action = (await load())[name] as AnyAction;
    await action(...args);
  };
}
